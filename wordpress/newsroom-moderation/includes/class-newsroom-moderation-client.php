<?php
/**
 * HTTP calls to the moderation service, through WordPress's HTTP API.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The service's routes as this plugin calls them: intake, decisions, privacy, the key check.
 */
class Newsroom_Moderation_Client {

	/**
	 * Seconds to wait for the service while a reader waits for the comment form's answer.
	 */
	const TIMEOUT = 2;

	/**
	 * The service's base URL (option newsroom_moderation_url).
	 *
	 * @var string
	 */
	private $base;

	/**
	 * The site's key from `moderation api-keys` (option newsroom_moderation_api_key).
	 *
	 * @var string
	 */
	private $key;

	/**
	 * A client for the configured service.
	 *
	 * @param string|null $base The service's URL; the option's by default.
	 * @param string|null $key  The site's API key; the option's by default.
	 */
	public function __construct( $base = null, $key = null ) {
		$this->base = null === $base ? (string) get_option( 'newsroom_moderation_url', '' ) : (string) $base;
		$this->key  = null === $key ? (string) get_option( 'newsroom_moderation_api_key', '' ) : (string) $key;
	}

	/**
	 * Whether a URL and a key are set.
	 *
	 * @return bool
	 */
	public function configured() {
		return '' !== $this->base && '' !== $this->key;
	}

	/**
	 * The service's base URL.
	 *
	 * @return string
	 */
	public function base() {
		return rtrim( $this->base, '/' );
	}

	/**
	 * Send one call; the answer as [status code (0 for none), decoded JSON or null, error text].
	 *
	 * @param string $method  GET or POST.
	 * @param string $path    The route, with its query.
	 * @param array  $body    Fields to send as JSON (POST).
	 * @param array  $headers Extra headers.
	 * @param int    $timeout Seconds.
	 * @return array{0:int,1:array|null,2:string}
	 */
	public function call( $method, $path, $body = array(), $headers = array(), $timeout = self::TIMEOUT ) {
		$args = array(
			'method'      => $method,
			'timeout'     => $timeout,
			'redirection' => 0,
			'headers'     => array_merge(
				array(
					'X-Api-Key' => $this->key,
					'Accept'    => 'application/json',
				),
				$headers
			),
			'user-agent'  => 'newsroom-moderation-wordpress/' . NEWSROOM_MODERATION_VERSION . '; ' . home_url( '/' ),
		);
		if ( 'POST' === $method ) {
			$args['headers']['Content-Type'] = 'application/json';
			$args['body']                    = wp_json_encode( (object) $body );
		}
		$response = wp_remote_request( Newsroom_Moderation_Protocol::url( $this->base, $path ), $args );
		if ( is_wp_error( $response ) ) {
			return array( 0, null, $response->get_error_message() );
		}
		$code    = (int) wp_remote_retrieve_response_code( $response );
		$decoded = json_decode( wp_remote_retrieve_body( $response ), true );
		$answer  = is_array( $decoded ) ? $decoded : null;
		$error   = $code >= 400 ? (string) ( $answer['detail'] ?? $answer['title'] ?? "HTTP $code" ) : '';
		return array( $code, $answer, $error );
	}

	/**
	 * Post a comment for moderation (`POST /v1/comments`), with the idempotency key that makes a retry safe.
	 *
	 * @param array  $fields          The comment's fields, the reader's ip, user_agent and referer included.
	 * @param string $idempotency_key The same key on every attempt for one comment.
	 * @return array{0:int,1:array|null,2:string}
	 */
	public function submit( $fields, $idempotency_key ) {
		return $this->call( 'POST', '/v1/comments', $fields, array( 'Idempotency-Key' => $idempotency_key ) );
	}

	/**
	 * A WordPress user's decision on one of this site's comments (`POST /v1/review/<id>/decision`).
	 *
	 * @param string $comment_id The service's comment id.
	 * @param array  $decision   action, reason, and optionally version.
	 * @param string $login      The WordPress user who decided.
	 * @return array{0:int,1:array|null,2:string}
	 */
	public function decide( $comment_id, $decision, $login ) {
		return $this->call(
			'POST',
			'/v1/review/' . rawurlencode( $comment_id ) . '/decision',
			$decision,
			array( 'X-Acting-User' => $login ),
			5
		);
	}

	/**
	 * Whether the service answers and knows the key: [ok, message].
	 *
	 * @return array{0:bool,1:string}
	 */
	public function test_connection() {
		list( $code, $answer, $error ) = $this->call( 'GET', '/readyz', array(), array(), 5 );
		if ( 200 !== $code ) {
			return array( false, 0 === $code ? $error : sprintf( 'the service is not ready (HTTP %d)', $code ) );
		}
		// Akismet's verify-key is the one route that checks a key without storing anything.
		$response = wp_remote_post(
			Newsroom_Moderation_Protocol::url( $this->base, '/1.1/verify-key' ),
			array(
				'timeout'     => 5,
				'redirection' => 0,
				'body'        => array(
					'key'  => $this->key,
					'blog' => home_url( '/' ),
				),
			)
		);
		if ( is_wp_error( $response ) ) {
			return array( false, $response->get_error_message() );
		}
		if ( 'valid' !== trim( wp_remote_retrieve_body( $response ) ) ) {
			return array( false, 'the service answers, but does not know this API key' );
		}
		return array( true, 'the service answers and knows this API key' );
	}
}
