<?php
/**
 * Comments through the service, decisions both ways, retries by WP-Cron, the webhook route.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The plugin's hooks on WordPress's comments.
 */
class Newsroom_Moderation {

	const META_ID          = '_newsroom_moderation_id';
	const META_STATUS      = '_newsroom_moderation_status';
	const META_REASONS     = '_newsroom_moderation_reasons';
	const META_SCORES      = '_newsroom_moderation_scores';
	const META_IDEMPOTENCY = '_newsroom_moderation_idempotency';
	const META_RETRY       = '_newsroom_moderation_retry';
	const META_REFERER     = '_newsroom_moderation_referer';
	const META_DECISION    = '_newsroom_moderation_decision';
	const META_ERROR       = '_newsroom_moderation_error';
	const META_EVENT_AT    = '_newsroom_moderation_event_at';
	const CRON_HOOK        = 'newsroom_moderation_retry';
	const REST_NAMESPACE   = 'newsroom-moderation/v1';
	const BATCH            = 50;

	/**
	 * The one instance.
	 *
	 * @var Newsroom_Moderation|null
	 */
	private static $instance = null;

	/**
	 * The service's answer for the comment being inserted, from pre_comment_approved to comment_post.
	 *
	 * @var array|null
	 */
	private $outcome = null;

	/**
	 * Above zero while this plugin itself changes a comment's status: such a change came from the service
	 * and must not go back to it as a WordPress user's decision.
	 *
	 * @var int
	 */
	private $applying = 0;

	/**
	 * The plugin.
	 *
	 * @return Newsroom_Moderation
	 */
	public static function instance() {
		if ( null === self::$instance ) {
			self::$instance = new self();
		}
		return self::$instance;
	}

	/**
	 * Hook into WordPress.
	 */
	public function register() {
		add_filter( 'pre_comment_approved', array( $this, 'pre_comment_approved' ), 99, 2 );
		add_action( 'comment_post', array( $this, 'comment_post' ), 10, 3 );
		add_action( 'transition_comment_status', array( $this, 'transition_comment_status' ), 10, 3 );
		add_action( self::CRON_HOOK, array( $this, 'retry' ) );
		add_action( 'rest_api_init', array( $this, 'register_routes' ) );
	}

	/**
	 * On activation: an hourly sweep of anything left unsent, besides the sooner retries failures schedule.
	 */
	public static function activate() {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time() + HOUR_IN_SECONDS, 'hourly', self::CRON_HOOK );
		}
	}

	/**
	 * On deactivation: no more retries.
	 */
	public static function deactivate() {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * The service client for the site's settings.
	 *
	 * @return Newsroom_Moderation_Client
	 */
	public function client() {
		return new Newsroom_Moderation_Client();
	}

	// -- new comments ------------------------------------------------------------------------------

	/**
	 * Whether a new comment goes to the service: a reader's comment (not a pingback, not a moderator's own).
	 *
	 * @param array $commentdata The comment as wp_new_comment has it.
	 * @return bool
	 */
	private function moderates( $commentdata ) {
		$type = $commentdata['comment_type'] ?? 'comment';
		if ( '' !== $type && 'comment' !== $type ) {
			return false;
		}
		$user_id = (int) ( $commentdata['user_id'] ?? 0 );
		// A moderator's reply is theirs to publish, as WordPress itself never holds it.
		return ! ( $user_id && user_can( $user_id, 'moderate_comments' ) );
	}

	/**
	 * The fields `POST /v1/comments` takes for a comment, the reader's origin included.
	 *
	 * @param array  $data    comment_post_ID, comment_author, comment_author_email, comment_author_url,
	 *                        comment_content, comment_parent, comment_author_IP, comment_agent.
	 * @param string $referer The page the reader posted from.
	 * @return array
	 */
	public function fields( $data, $referer ) {
		$post_id = (int) ( $data['comment_post_ID'] ?? 0 );
		$fields  = array(
			/**
			 * The thread id the service keys an article's comments by: its permalink unless filtered.
			 *
			 * @param string $article_id The post's permalink.
			 * @param int    $post_id    The post.
			 */
			'article_id' => (string) apply_filters( 'newsroom_moderation_article_id', get_permalink( $post_id ), $post_id ),
			'name'       => mb_substr( (string) ( $data['comment_author'] ?? '' ), 0, 80 ),
			'email'      => (string) ( $data['comment_author_email'] ?? '' ),
			'body'       => (string) ( $data['comment_content'] ?? '' ),
			'ip'         => (string) ( $data['comment_author_IP'] ?? '' ),
			'user_agent' => (string) ( $data['comment_agent'] ?? '' ),
			'referer'    => (string) $referer,
			/**
			 * The language the post is written in, the service's hint for comments too short to tell
			 * (a locale such as de_DE is fine): the site's locale unless filtered, e.g. by a
			 * multilingual plugin's language of the post.
			 *
			 * @param string $language The site's locale.
			 * @param int    $post_id  The post.
			 */
			'language'   => (string) apply_filters( 'newsroom_moderation_language', get_locale(), $post_id ),
		);
		$website = (string) ( $data['comment_author_url'] ?? '' );
		if ( '' !== $website ) {
			$fields['website'] = $website;
		}
		$parent = (int) ( $data['comment_parent'] ?? 0 );
		if ( $parent ) {
			$parent_id = (string) get_comment_meta( $parent, self::META_ID, true );
			if ( '' !== $parent_id ) {
				$fields['parent_id'] = $parent_id;
			}
		}
		if ( '' === $fields['ip'] ) {
			unset( $fields['ip'] );
		}
		return $fields;
	}

	/**
	 * Ask the service before WordPress stores a new comment; hold it when the service cannot answer.
	 *
	 * @param int|string|WP_Error $approved    WordPress's own verdict.
	 * @param array               $commentdata The comment.
	 * @return int|string|WP_Error
	 */
	public function pre_comment_approved( $approved, $commentdata ) {
		$this->outcome = null;
		$client        = $this->client();
		if ( is_wp_error( $approved ) || ! $client->configured() || ! $this->moderates( $commentdata ) ) {
			return $approved;
		}
		// WordPress's own Disallowed Comment Keys are the site's word: such a comment stays where they put it.
		if ( 'spam' === $approved || 'trash' === $approved ) {
			return $approved;
		}
		$referer = isset( $_SERVER['HTTP_REFERER'] ) ? esc_url_raw( wp_unslash( $_SERVER['HTTP_REFERER'] ) ) : '';
		$key     = wp_generate_uuid4();
		list( $code, $answer, $error ) = $client->submit( $this->fields( $commentdata, $referer ), $key );
		$status        = Newsroom_Moderation_Protocol::intake_status( $code, $answer );
		$this->outcome = array(
			'code'        => $code,
			'answer'      => $answer,
			'error'       => $error,
			'idempotency' => $key,
			'referer'     => $referer,
		);
		// Anything but a verdict holds the comment: nothing is published that the service did not see. A site
		// that has every comment approved by hand (Settings, Discussion) keeps that: the service may only hold more.
		if ( null === $status || ( 1 === $status && '1' === (string) get_option( 'comment_moderation' ) ) ) {
			return 0;
		}
		return $status;
	}

	/**
	 * After WordPress stored the comment: keep the service's id and verdict, or queue the comment for a retry.
	 *
	 * @param int        $comment_id  The new comment.
	 * @param int|string $approved    Its status.
	 * @param array      $commentdata The comment.
	 */
	public function comment_post( $comment_id, $approved, $commentdata ) {
		$outcome       = $this->outcome;
		$this->outcome = null;
		if ( null === $outcome ) {
			return;
		}
		if ( null !== Newsroom_Moderation_Protocol::intake_status( $outcome['code'], $outcome['answer'] ) ) {
			$this->remember( $comment_id, $outcome['answer'] );
			return;
		}
		update_comment_meta( $comment_id, self::META_IDEMPOTENCY, $outcome['idempotency'] );
		update_comment_meta( $comment_id, self::META_REFERER, $outcome['referer'] );
		update_comment_meta( $comment_id, self::META_ERROR, $outcome['error'] );
		if ( Newsroom_Moderation_Protocol::is_transient( $outcome['code'] ) ) {
			update_comment_meta( $comment_id, self::META_RETRY, 0 );
			$this->schedule_retry( 0 );
		}
	}

	/**
	 * Keep the service's id, status, reasons and scores of a comment (an intake answer).
	 *
	 * @param int   $comment_id The WordPress comment.
	 * @param array $answer     The 201's JSON.
	 */
	private function remember( $comment_id, $answer ) {
		if ( isset( $answer['id'] ) ) {
			update_comment_meta( $comment_id, self::META_ID, sanitize_text_field( (string) $answer['id'] ) );
			update_comment_meta( $comment_id, self::META_STATUS, sanitize_key( (string) ( $answer['status'] ?? '' ) ) );
			$reasons = array_map( 'sanitize_key', (array) ( $answer['reasons'] ?? array() ) );
			update_comment_meta( $comment_id, self::META_REASONS, implode( ',', $reasons ) );
			if ( isset( $answer['scores'] ) && is_array( $answer['scores'] ) ) {
				update_comment_meta( $comment_id, self::META_SCORES, array_map( 'floatval', $answer['scores'] ) );
			}
		} else {
			update_comment_meta( $comment_id, self::META_STATUS, 'refused' );
		}
		delete_comment_meta( $comment_id, self::META_RETRY );
		delete_comment_meta( $comment_id, self::META_ERROR );
	}

	// -- retries -----------------------------------------------------------------------------------

	/**
	 * Run the retry soon: after the filtered delay, doubled for each failed attempt, at most an hour.
	 *
	 * @param int $attempts Failed attempts so far.
	 */
	private function schedule_retry( $attempts ) {
		/**
		 * Seconds before the first retry of a comment the service did not take.
		 *
		 * @param int $delay Sixty seconds by default.
		 */
		$base  = max( 1, (int) apply_filters( 'newsroom_moderation_retry_delay', MINUTE_IN_SECONDS ) );
		$delay = min( HOUR_IN_SECONDS, $base * ( 2 ** min( 10, (int) $attempts ) ) );
		$next  = wp_next_scheduled( self::CRON_HOOK );
		if ( false === $next || $next > time() + $delay ) {
			if ( false !== $next ) {
				wp_unschedule_event( $next, self::CRON_HOOK );
			}
			wp_schedule_single_event( time() + $delay, self::CRON_HOOK );
			if ( false !== $next ) {
				self::activate();
			}
		}
	}

	/**
	 * The comments that carry a meta key, in every status.
	 *
	 * @param string $meta_key The meta key.
	 * @return int[]
	 */
	private function comments_with( $meta_key ) {
		return array_map(
			'intval',
			get_comments(
				array(
					'meta_key' => $meta_key, // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_key
					'status'   => 'any',
					'fields'   => 'ids',
					'number'   => self::BATCH,
					'orderby'  => 'comment_ID',
					'order'    => 'ASC',
				)
			)
		);
	}

	/**
	 * WP-Cron: send the comments the service did not take, then the decisions it did not get.
	 */
	public function retry() {
		$client = $this->client();
		if ( ! $client->configured() ) {
			return;
		}
		$failed = 0;
		foreach ( $this->comments_with( self::META_RETRY ) as $comment_id ) {
			$failed = max( $failed, $this->resend( $comment_id ) );
		}
		foreach ( $this->comments_with( self::META_DECISION ) as $comment_id ) {
			$decision = get_comment_meta( $comment_id, self::META_DECISION, true );
			if ( is_array( $decision ) && '' !== (string) get_comment_meta( $comment_id, self::META_ID, true ) ) {
				$login    = (string) ( $decision['login'] ?? '' );
				$attempts = (int) ( $decision['attempts'] ?? 0 ) + 1;
				unset( $decision['login'], $decision['attempts'] );
				if ( ! $this->send_decision( get_comment( $comment_id ), $decision, $login, $attempts ) ) {
					$failed = max( $failed, $attempts );
				}
			}
		}
		if ( $failed ) {
			$this->schedule_retry( $failed );
		}
	}

	/**
	 * Send one held comment again; 0 when it is settled, else its failed attempts so far.
	 *
	 * @param int $comment_id The WordPress comment.
	 * @return int
	 */
	private function resend( $comment_id ) {
		$comment = get_comment( $comment_id );
		if ( ! $comment ) {
			return 0;
		}
		$key = (string) get_comment_meta( $comment_id, self::META_IDEMPOTENCY, true );
		if ( '' === $key ) {
			$key = wp_generate_uuid4();
			update_comment_meta( $comment_id, self::META_IDEMPOTENCY, $key );
		}
		$fields = $this->fields( $comment->to_array(), (string) get_comment_meta( $comment_id, self::META_REFERER, true ) );
		list( $code, $answer, $error ) = $this->client()->submit( $fields, $key );
		$status = Newsroom_Moderation_Protocol::intake_status( $code, $answer );
		if ( null !== $status ) {
			$this->remember( $comment_id, $answer );
			if ( 'unapproved' === wp_get_comment_status( $comment ) ) {
				$this->apply_status( $comment, $status );
			}
			return 0;
		}
		update_comment_meta( $comment_id, self::META_ERROR, $error );
		if ( ! Newsroom_Moderation_Protocol::is_transient( $code ) ) {
			delete_comment_meta( $comment_id, self::META_RETRY );
			return 0;
		}
		$attempts = (int) get_comment_meta( $comment_id, self::META_RETRY, true ) + 1;
		update_comment_meta( $comment_id, self::META_RETRY, $attempts );
		return $attempts;
	}

	/**
	 * Set a comment's WordPress status as the service has it, without sending it back as a decision.
	 *
	 * @param WP_Comment $comment  The comment.
	 * @param int|string $approved 1, 0, 'spam' or 'trash'.
	 * @return bool Whether it changed.
	 */
	public function apply_status( $comment, $approved ) {
		$current = wp_get_comment_status( $comment );
		if ( Newsroom_Moderation_Protocol::status_name( $approved ) === $current ) {
			return false;
		}
		$verbs = array(
			'approved'   => 'approve',
			'unapproved' => 'hold',
			'spam'       => 'spam',
			'trash'      => 'trash',
		);
		++$this->applying;
		try {
			if ( 'trash' === $current && 'trash' !== $approved ) {
				wp_untrash_comment( $comment );
			} elseif ( 'spam' === $current && 'spam' !== $approved ) {
				wp_unspam_comment( $comment );
			}
			return (bool) wp_set_comment_status( $comment, $verbs[ Newsroom_Moderation_Protocol::status_name( $approved ) ] );
		} finally {
			--$this->applying;
		}
	}

	// -- decisions from wp-admin -------------------------------------------------------------------

	/**
	 * A WordPress user approved, spammed or trashed a comment: the same decision to the service, by that user.
	 *
	 * @param string     $new_status approved, unapproved, spam or trash.
	 * @param string     $old_status The status before.
	 * @param WP_Comment $comment    The comment.
	 */
	public function transition_comment_status( $new_status, $old_status, $comment ) {
		if ( $this->applying > 0 || $new_status === $old_status ) {
			return;
		}
		$decision = Newsroom_Moderation_Protocol::decision_for( $new_status );
		$user     = wp_get_current_user();
		if ( null === $decision || ! $user->exists() || ! $this->client()->configured() ) {
			return;
		}
		if ( '' === (string) get_comment_meta( $comment->comment_ID, self::META_ID, true ) ) {
			if ( '' !== (string) get_comment_meta( $comment->comment_ID, self::META_RETRY, true ) ) {
				// Not yet with the service: the decision goes after the comment, from the retry.
				update_comment_meta( $comment->comment_ID, self::META_DECISION, $decision + array( 'login' => $user->user_login ) );
			}
			return;
		}
		if ( ! $this->send_decision( $comment, $decision, $user->user_login, 0 ) ) {
			$this->schedule_retry( 0 );
		}
	}

	/**
	 * Send a WordPress user's decision; false when it should be sent again later.
	 *
	 * When both sides decided at once, the first decision the service recorded wins: its 409 carries that
	 * state, which this comment then takes in WordPress too. A user who changes a decision they could see
	 * (the service's status is the one this plugin last knew) overrides it, sent again with its version.
	 *
	 * @param WP_Comment $comment  The comment.
	 * @param array      $decision action, reason.
	 * @param string     $login    The WordPress user.
	 * @param int        $attempts Failed attempts before this one.
	 * @return bool
	 */
	public function send_decision( $comment, $decision, $login, $attempts ) {
		$comment_id = (int) $comment->comment_ID;
		$our_id     = (string) get_comment_meta( $comment_id, self::META_ID, true );
		$wanted     = 'approve' === $decision['action'] ? 'published' : 'rejected';
		list( $code, $answer, $error ) = $this->client()->decide( $our_id, $decision, $login );
		if ( 409 === $code && isset( $answer['current']['status'] ) ) {
			$current = $answer['current'];
			$known   = (string) get_comment_meta( $comment_id, self::META_STATUS, true );
			if ( $current['status'] !== $wanted && $current['status'] === $known && ! isset( $decision['version'] ) ) {
				return $this->send_decision( $comment, $decision + array( 'version' => (int) $current['version'] ), $login, $attempts );
			}
			update_comment_meta( $comment_id, self::META_STATUS, sanitize_key( $current['status'] ) );
			delete_comment_meta( $comment_id, self::META_DECISION );
			if ( $current['status'] !== $wanted ) {
				$reason = (string) ( $current['decision_reason'] ?? '' );
				$this->apply_status( $comment, Newsroom_Moderation_Protocol::wp_status( $current['status'], $reason ) );
				update_comment_meta(
					$comment_id,
					self::META_ERROR,
					sprintf( 'Decided first in the moderation service by %s.', sanitize_text_field( (string) ( $current['decided_by'] ?? 'someone' ) ) )
				);
			}
			return true;
		}
		if ( 200 === $code ) {
			// The webhook of this very decision, or of an earlier one, arrives after it and must not undo it.
			update_comment_meta( $comment_id, self::META_EVENT_AT, self::now() );
			update_comment_meta( $comment_id, self::META_STATUS, sanitize_key( (string) ( $answer['status'] ?? $wanted ) ) );
			delete_comment_meta( $comment_id, self::META_DECISION );
			delete_comment_meta( $comment_id, self::META_ERROR );
			return true;
		}
		update_comment_meta( $comment_id, self::META_ERROR, $error );
		if ( Newsroom_Moderation_Protocol::is_transient( $code ) ) {
			unset( $decision['version'] );
			update_comment_meta( $comment_id, self::META_DECISION, $decision + array( 'login' => $login, 'attempts' => $attempts ) );
			return false;
		}
		delete_comment_meta( $comment_id, self::META_DECISION );
		return true;
	}

	/**
	 * Now, in the service's timestamp format (UTC, milliseconds), which sorts as text.
	 *
	 * @return string
	 */
	public static function now() {
		$now = microtime( true );
		return gmdate( 'Y-m-d\\TH:i:s', (int) $now ) . sprintf( '.%03dZ', (int) ( ( $now - floor( $now ) ) * 1000 ) );
	}

	// -- the webhook -------------------------------------------------------------------------------

	/**
	 * The route the service's signed webhooks reach: /wp-json/newsroom-moderation/v1/events.
	 */
	public function register_routes() {
		register_rest_route(
			self::REST_NAMESPACE,
			'/events',
			array(
				'methods'             => 'POST',
				'callback'            => array( $this, 'receive_event' ),
				'permission_callback' => array( $this, 'signed' ),
			)
		);
	}

	/**
	 * Only a request signed with the webhook secret, within five minutes, gets in.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return true|WP_Error
	 */
	public function signed( $request ) {
		$secret = (string) get_option( 'newsroom_moderation_webhook_secret', '' );
		$header = (string) $request->get_header( 'moderation_signature' );
		if ( Newsroom_Moderation_Protocol::verify_signature( $secret, $header, $request->get_body() ) ) {
			return true;
		}
		return new WP_Error(
			'newsroom_moderation_bad_signature',
			'' === $secret ? 'No webhook secret is set.' : 'Moderation-Signature is missing, wrong or too old.',
			array( 'status' => 401 )
		);
	}

	/**
	 * Apply one event of the service to the comment it names; each event once.
	 *
	 * @param WP_REST_Request $request The request.
	 * @return WP_REST_Response
	 */
	public function receive_event( $request ) {
		$event = json_decode( $request->get_body(), true );
		if ( ! is_array( $event ) || empty( $event['id'] ) || empty( $event['type'] ) || empty( $event['comment_id'] ) ) {
			return new WP_REST_Response( array( 'error' => 'not an event of the moderation service' ), 400 );
		}
		$seen = 'newsroom_moderation_event_' . md5( (string) $event['id'] );
		if ( get_transient( $seen ) ) {
			return new WP_REST_Response( array( 'result' => 'duplicate' ), 200 );
		}
		$result = $this->apply_event( $event );
		set_transient( $seen, 1, 2 * DAY_IN_SECONDS );
		return new WP_REST_Response( array( 'result' => $result ), 200 );
	}

	/**
	 * What an event changes: a decision, or a rescore that published or held a comment again.
	 *
	 * The first answer of a new comment (`comment.published` or `comment.held` without `previous_status`)
	 * came back synchronously already, and reports change nothing here.
	 *
	 * @param array $event The payload.
	 * @return string What was done.
	 */
	private function apply_event( $event ) {
		$type = (string) $event['type'];
		if ( 'comment.decided' !== $type && ! ( in_array( $type, array( 'comment.published', 'comment.held' ), true ) && isset( $event['previous_status'] ) ) ) {
			return 'ignored';
		}
		$ids = get_comments(
			array(
				'meta_key'   => self::META_ID, // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_key
				'meta_value' => (string) $event['comment_id'], // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_value
				'status'     => 'any',
				'fields'     => 'ids',
				'number'     => 1,
			)
		);
		if ( empty( $ids ) ) {
			return 'unknown comment';
		}
		$comment = get_comment( (int) $ids[0] );
		$at      = (string) ( $event['occurred_at'] ?? '' );
		if ( '' !== $at && strcmp( $at, (string) get_comment_meta( $comment->comment_ID, self::META_EVENT_AT, true ) ) < 0 ) {
			return 'stale';
		}
		update_comment_meta( $comment->comment_ID, self::META_EVENT_AT, $at );
		$status  = (string) ( $event['status'] ?? '' );
		$reasons = (array) ( $event['reasons'] ?? array() );
		$reason  = 'comment.decided' === $type && isset( $reasons[0] ) ? (string) $reasons[0] : '';
		$target  = Newsroom_Moderation_Protocol::wp_status( $status, $reason );
		if ( null === $target ) {
			return 'ignored';
		}
		update_comment_meta( $comment->comment_ID, self::META_STATUS, sanitize_key( $status ) );
		return $this->apply_status( $comment, $target ) ? 'applied' : 'unchanged';
	}
}
