<?php
/**
 * Plugin Name:       Newsroom Moderation
 * Plugin URI:        https://github.com/newsroom-moderation/newsroom-moderation
 * Description:       Sends every comment of this site's own comment form through the newsroom's moderation service, and keeps its decisions and wp-admin's in step.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * Author:            The newsroom moderation team
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       newsroom-moderation
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'NEWSROOM_MODERATION_VERSION', '1.0.0' );
define( 'NEWSROOM_MODERATION_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-newsroom-moderation-protocol.php';
require_once __DIR__ . '/includes/class-newsroom-moderation-client.php';
require_once __DIR__ . '/includes/class-newsroom-moderation.php';
require_once __DIR__ . '/includes/class-newsroom-moderation-admin.php';
require_once __DIR__ . '/includes/class-newsroom-moderation-privacy.php';

register_activation_hook( __FILE__, array( 'Newsroom_Moderation', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Newsroom_Moderation', 'deactivate' ) );

Newsroom_Moderation::instance()->register();
Newsroom_Moderation_Admin::register();
Newsroom_Moderation_Privacy::register();
