<?php
/**
 * Tools, Export and Erase Personal Data: the service's copy of an author's comments too.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * A personal-data exporter and eraser for what the service keeps of an email's comments.
 */
class Newsroom_Moderation_Privacy {

	/**
	 * Pages of the service's export read for one request (100 comments each).
	 */
	const MAX_PAGES = 50;

	/**
	 * Register the exporter and the eraser.
	 */
	public static function register() {
		add_filter( 'wp_privacy_personal_data_exporters', array( __CLASS__, 'exporters' ) );
		add_filter( 'wp_privacy_personal_data_erasers', array( __CLASS__, 'erasers' ) );
	}

	/**
	 * The exporter.
	 *
	 * @param array $exporters The exporters.
	 * @return array
	 */
	public static function exporters( $exporters ) {
		$exporters['newsroom-moderation'] = array(
			'exporter_friendly_name' => __( 'Newsroom moderation service', 'newsroom-moderation' ),
			'callback'               => array( __CLASS__, 'export' ),
		);
		return $exporters;
	}

	/**
	 * The eraser.
	 *
	 * @param array $erasers The erasers.
	 * @return array
	 */
	public static function erasers( $erasers ) {
		$erasers['newsroom-moderation'] = array(
			'eraser_friendly_name' => __( 'Newsroom moderation service', 'newsroom-moderation' ),
			'callback'             => array( __CLASS__, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * The service's comments of this email, every personal field (`POST /v1/authors/exports`), in one page.
	 *
	 * @param string $email The requester's email.
	 * @param int    $page  WordPress's page (the service's pages are read here, so there is only one).
	 * @return array
	 */
	public static function export( $email, $page = 1 ) {
		$client = new Newsroom_Moderation_Client();
		$items  = array();
		if ( ! $client->configured() || $page > 1 ) {
			return array(
				'data' => $items,
				'done' => true,
			);
		}
		$cursor = '';
		for ( $pages = 0; $pages < self::MAX_PAGES; $pages++ ) {
			$path = '/v1/authors/exports' . ( '' === $cursor ? '' : '?cursor=' . rawurlencode( $cursor ) );
			list( $code, $answer, $error ) = $client->call( 'POST', $path, array( 'email' => $email ), array(), 15 );
			if ( 200 !== $code || ! is_array( $answer ) ) {
				/* translators: %s: the service's error */
				return new WP_Error( 'newsroom_moderation_export', sprintf( __( 'The moderation service did not answer the export: %s', 'newsroom-moderation' ), $error ) );
			}
			foreach ( (array) ( $answer['comments'] ?? array() ) as $row ) {
				$data = array();
				foreach ( array( 'id', 'article_id', 'name', 'email', 'website', 'body', 'ip', 'user_agent', 'referer', 'created_at', 'status' ) as $field ) {
					if ( isset( $row[ $field ] ) && '' !== (string) $row[ $field ] ) {
						$data[] = array(
							'name'  => $field,
							'value' => (string) $row[ $field ],
						);
					}
				}
				$items[] = array(
					'group_id'    => 'newsroom-moderation',
					'group_label' => __( 'Comments kept by the moderation service', 'newsroom-moderation' ),
					'item_id'     => 'newsroom-moderation-' . sanitize_key( (string) ( $row['id'] ?? '' ) ),
					'data'        => $data,
				);
			}
			$cursor = (string) ( $answer['next_cursor'] ?? '' );
			if ( '' === $cursor ) {
				break;
			}
		}
		return array(
			'data' => $items,
			'done' => true,
		);
	}

	/**
	 * Erase the service's personal data of this email (`POST /v1/authors/erasures`); decisions stay.
	 *
	 * @param string $email The requester's email.
	 * @param int    $page  WordPress's page (one is enough).
	 * @return array
	 */
	public static function erase( $email, $page = 1 ) {
		$client = new Newsroom_Moderation_Client();
		$result = array(
			'items_removed'  => false,
			'items_retained' => false,
			'messages'       => array(),
			'done'           => true,
		);
		if ( ! $client->configured() ) {
			return $result;
		}
		list( $code, $answer, $error ) = $client->call( 'POST', '/v1/authors/erasures', array( 'email' => $email ), array(), 15 );
		if ( 200 !== $code ) {
			$result['items_retained'] = true;
			/* translators: %s: the service's error */
			$result['messages'][] = sprintf( __( 'The moderation service did not erase this email\'s comments: %s', 'newsroom-moderation' ), $error );
			return $result;
		}
		$result['items_removed'] = (int) ( $answer['comments_erased'] ?? 0 ) > 0;
		return $result;
	}
}
