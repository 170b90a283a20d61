<?php
/**
 * Unit tests load the plugin's WordPress-free parts only (Debian's phpunit: `phpunit -c wordpress/phpunit.xml.dist`).
 *
 * @package Newsroom_Moderation
 */

define( 'ABSPATH', __DIR__ . '/' );
require_once dirname( __DIR__ ) . '/newsroom-moderation/includes/class-newsroom-moderation-protocol.php';
