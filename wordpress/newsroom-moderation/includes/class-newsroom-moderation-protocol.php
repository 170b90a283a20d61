<?php
/**
 * The service's protocol as pure functions: webhook signatures and the mapping between its statuses and WordPress's.
 *
 * Nothing here calls WordPress, so the unit tests run it without a site.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Signatures, status mapping and the answers of the service, without WordPress.
 */
final class Newsroom_Moderation_Protocol {

	/**
	 * How far a webhook's timestamp may be from now, either way (the service's own receivers use 300 s).
	 */
	const SIGNATURE_TOLERANCE = 300;

	/**
	 * Whether `$header` (`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`) signs this raw body recently.
	 *
	 * Several `v1=` values are accepted, any one matching, so the service may sign with an old and a new secret
	 * during a rotation. The comparison is constant-time.
	 *
	 * @param string   $secret The secret `moderation webhooks add` printed.
	 * @param string   $header The Moderation-Signature header.
	 * @param string   $body   The request body as received.
	 * @param int|null $now    The time to check against (tests); now by default.
	 * @return bool
	 */
	public static function verify_signature( $secret, $header, $body, $now = null ) {
		if ( '' === (string) $secret || '' === (string) $header ) {
			return false;
		}
		$timestamp  = null;
		$candidates = array();
		foreach ( explode( ',', (string) $header ) as $part ) {
			$pair = explode( '=', trim( $part ), 2 );
			if ( 2 !== count( $pair ) ) {
				continue;
			}
			if ( 't' === $pair[0] ) {
				if ( ! preg_match( '/^\d{1,12}$/', $pair[1] ) ) {
					return false;
				}
				$timestamp = (int) $pair[1];
			} elseif ( 'v1' === $pair[0] && '' !== $pair[1] ) {
				$candidates[] = $pair[1];
			}
		}
		if ( null === $timestamp || empty( $candidates ) ) {
			return false;
		}
		$now = null === $now ? time() : (int) $now;
		if ( abs( $now - $timestamp ) > self::SIGNATURE_TOLERANCE ) {
			return false;
		}
		$expected = hash_hmac( 'sha256', $timestamp . '.' . $body, (string) $secret );
		foreach ( $candidates as $candidate ) {
			if ( hash_equals( $expected, $candidate ) ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The `comment_approved` value for a status of the service: 1, 0, 'spam' or 'trash'.
	 *
	 * An automatic rejection and a moderator's rejection as spam go to WordPress's spam (where Akismet's go);
	 * a moderator's rejection for another reason (abuse, off topic, personal data) goes to the trash.
	 *
	 * @param string $status  published, pending or rejected.
	 * @param string $reason  A moderator's reason for a rejection, '' for an automatic one.
	 * @return int|string|null Null for a status this plugin does not know.
	 */
	public static function wp_status( $status, $reason = '' ) {
		switch ( $status ) {
			case 'published':
				return 1;
			case 'pending':
				return 0;
			case 'rejected':
				return ( '' === $reason || 'spam' === $reason ) ? 'spam' : 'trash';
		}
		return null;
	}

	/**
	 * What `wp_get_comment_status()` calls a `comment_approved` value.
	 *
	 * @param int|string $approved A comment_approved value.
	 * @return string approved, unapproved, spam or trash.
	 */
	public static function status_name( $approved ) {
		if ( 1 === $approved || '1' === $approved ) {
			return 'approved';
		}
		if ( 0 === $approved || '0' === $approved ) {
			return 'unapproved';
		}
		return (string) $approved;
	}

	/**
	 * The decision to send for a status a WordPress user gave a comment, or null for none.
	 *
	 * Holding a comment again ("Unapprove") has no decision on the service's side: it stays as it is there.
	 *
	 * @param string $wp_status approved, unapproved, spam or trash (as transition_comment_status names them).
	 * @return array|null The decision's fields: action and, for a rejection, reason.
	 */
	public static function decision_for( $wp_status ) {
		switch ( $wp_status ) {
			case 'approved':
				return array( 'action' => 'approve' );
			case 'spam':
				return array(
					'action' => 'reject',
					'reason' => 'spam',
				);
			case 'trash':
				return array(
					'action' => 'reject',
					'reason' => 'other',
				);
		}
		return null;
	}

	/**
	 * Whether a failed call is worth sending again later: no answer, a timeout, 408, 429 or a 5xx.
	 *
	 * Any other 4xx says the request itself is wrong (a comment without an email, a revoked key), which
	 * sending it again will not change.
	 *
	 * @param int $code The HTTP status, 0 for no answer.
	 * @return bool
	 */
	public static function is_transient( $code ) {
		$code = (int) $code;
		return 0 === $code || 408 === $code || 429 === $code || $code >= 500;
	}

	/**
	 * The `comment_approved` value for an intake answer, or null when it is not a usable answer.
	 *
	 * A keyed request gets the true status (rejected included). A 403 is an author the newsroom banned or
	 * suspended, whose post the service refused: WordPress keeps it as spam.
	 *
	 * @param int        $code   The HTTP status.
	 * @param array|null $answer The decoded JSON answer.
	 * @return int|string|null
	 */
	public static function intake_status( $code, $answer ) {
		if ( 201 === (int) $code && is_array( $answer ) && isset( $answer['status'], $answer['id'] ) ) {
			return self::wp_status( (string) $answer['status'] );
		}
		if ( 403 === (int) $code && is_array( $answer ) && isset( $answer['type'] )
			&& false !== strpos( (string) $answer['type'], 'author-suspended' ) ) {
			return 'spam';
		}
		return null;
	}

	/**
	 * The service's URL for a path: the configured base without its trailing slash, then the path.
	 *
	 * @param string $base The option newsroom_moderation_url.
	 * @param string $path A path starting with '/'.
	 * @return string
	 */
	public static function url( $base, $path ) {
		return rtrim( (string) $base, '/' ) . $path;
	}
}
