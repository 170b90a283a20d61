<?php
/**
 * Removing the plugin removes its settings; comments keep their meta, which is harmless without it.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'newsroom_moderation_url' );
delete_option( 'newsroom_moderation_api_key' );
delete_option( 'newsroom_moderation_webhook_secret' );
wp_clear_scheduled_hook( 'newsroom_moderation_retry' );
