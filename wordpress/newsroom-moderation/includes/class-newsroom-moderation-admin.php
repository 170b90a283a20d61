<?php
/**
 * wp-admin: the settings page with its connection test, and the service's verdict in the comments list.
 *
 * @package Newsroom_Moderation
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Settings and the comments list column.
 */
class Newsroom_Moderation_Admin {

	const PAGE   = 'newsroom-moderation';
	const GROUP  = 'newsroom_moderation';
	const COLUMN = 'newsroom_moderation';

	/**
	 * Hook into wp-admin (settings are registered everywhere, so the REST API and `wp option` see them too).
	 */
	public static function register() {
		add_action( 'init', array( __CLASS__, 'register_settings' ) );
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_post_newsroom_moderation_test', array( __CLASS__, 'test_connection' ) );
		add_filter( 'manage_edit-comments_columns', array( __CLASS__, 'columns' ) );
		add_action( 'manage_comments_custom_column', array( __CLASS__, 'column' ), 10, 2 );
		add_filter( 'plugin_action_links_' . plugin_basename( NEWSROOM_MODERATION_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/**
	 * The three options, each with its sanitiser.
	 */
	public static function register_settings() {
		register_setting(
			self::GROUP,
			'newsroom_moderation_url',
			array(
				'type'              => 'string',
				'sanitize_callback' => array( __CLASS__, 'sanitize_url' ),
				'default'           => '',
			)
		);
		foreach ( array( 'newsroom_moderation_api_key', 'newsroom_moderation_webhook_secret' ) as $option ) {
			register_setting(
				self::GROUP,
				$option,
				array(
					'type'              => 'string',
					'sanitize_callback' => 'sanitize_text_field',
					'default'           => '',
				)
			);
		}
	}

	/**
	 * An http(s) URL without a trailing slash, or '' (with a settings error) for anything else.
	 *
	 * @param string $value What the form sent.
	 * @return string
	 */
	public static function sanitize_url( $value ) {
		$url = esc_url_raw( trim( (string) $value ), array( 'http', 'https' ) );
		if ( '' === $url && '' !== trim( (string) $value ) ) {
			add_settings_error( 'newsroom_moderation_url', 'newsroom_moderation_url', __( 'The service URL must be an http or https URL.', 'newsroom-moderation' ) );
		}
		return untrailingslashit( $url );
	}

	/**
	 * Settings, Newsroom moderation.
	 */
	public static function menu() {
		add_options_page(
			__( 'Newsroom moderation', 'newsroom-moderation' ),
			__( 'Newsroom moderation', 'newsroom-moderation' ),
			'manage_options',
			self::PAGE,
			array( __CLASS__, 'page' )
		);
	}

	/**
	 * A "Settings" link beside the plugin's name in the plugins list.
	 *
	 * @param string[] $links The links.
	 * @return string[]
	 */
	public static function action_links( $links ) {
		$url = admin_url( 'options-general.php?page=' . self::PAGE );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'newsroom-moderation' ) . '</a>' );
		return $links;
	}

	/**
	 * The settings page.
	 */
	public static function page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$webhook = rest_url( Newsroom_Moderation::REST_NAMESPACE . '/events' );
		$result  = get_transient( 'newsroom_moderation_test_' . get_current_user_id() );
		delete_transient( 'newsroom_moderation_test_' . get_current_user_id() );
		?>
		<div class="wrap">
			<h1><?php esc_html_e( 'Newsroom moderation', 'newsroom-moderation' ); ?></h1>
			<?php if ( is_array( $result ) ) : ?>
				<div class="notice notice-<?php echo $result[0] ? 'success' : 'error'; ?>"><p>
					<?php echo esc_html( ( $result[0] ? __( 'Connected: ', 'newsroom-moderation' ) : __( 'Not connected: ', 'newsroom-moderation' ) ) . $result[1] ); ?>
				</p></div>
			<?php endif; ?>
			<?php settings_errors(); ?>
			<form method="post" action="options.php">
				<?php settings_fields( self::GROUP ); ?>
				<table class="form-table" role="presentation">
					<tr>
						<th scope="row"><label for="newsroom_moderation_url"><?php esc_html_e( 'Service URL', 'newsroom-moderation' ); ?></label></th>
						<td><input name="newsroom_moderation_url" id="newsroom_moderation_url" type="url" class="regular-text code"
							value="<?php echo esc_attr( (string) get_option( 'newsroom_moderation_url', '' ) ); ?>" placeholder="https://moderation.example.org" /></td>
					</tr>
					<tr>
						<th scope="row"><label for="newsroom_moderation_api_key"><?php esc_html_e( 'API key', 'newsroom-moderation' ); ?></label></th>
						<td><input name="newsroom_moderation_api_key" id="newsroom_moderation_api_key" type="password" class="regular-text code" autocomplete="off"
							value="<?php echo esc_attr( (string) get_option( 'newsroom_moderation_api_key', '' ) ); ?>" />
							<p class="description"><?php esc_html_e( 'The key `moderation api-keys add NAME` printed for this site.', 'newsroom-moderation' ); ?></p></td>
					</tr>
					<tr>
						<th scope="row"><label for="newsroom_moderation_webhook_secret"><?php esc_html_e( 'Webhook secret', 'newsroom-moderation' ); ?></label></th>
						<td><input name="newsroom_moderation_webhook_secret" id="newsroom_moderation_webhook_secret" type="password" class="regular-text code" autocomplete="off"
							value="<?php echo esc_attr( (string) get_option( 'newsroom_moderation_webhook_secret', '' ) ); ?>" />
							<p class="description">
								<?php esc_html_e( 'The secret `moderation webhooks add` printed for this URL:', 'newsroom-moderation' ); ?>
								<code><?php echo esc_html( $webhook ); ?></code>
							</p></td>
					</tr>
				</table>
				<?php submit_button(); ?>
			</form>
			<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
				<input type="hidden" name="action" value="newsroom_moderation_test" />
				<?php wp_nonce_field( 'newsroom_moderation_test' ); ?>
				<?php submit_button( __( 'Test connection', 'newsroom-moderation' ), 'secondary', 'submit', false ); ?>
			</form>
		</div>
		<?php
	}

	/**
	 * The "Test connection" button: the service's readiness and the key, shown on the settings page.
	 */
	public static function test_connection() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You may not change these settings.', 'newsroom-moderation' ), 403 );
		}
		check_admin_referer( 'newsroom_moderation_test' );
		$client = new Newsroom_Moderation_Client();
		$result = $client->configured()
			? $client->test_connection()
			: array( false, __( 'set the service URL and the API key first', 'newsroom-moderation' ) );
		set_transient( 'newsroom_moderation_test_' . get_current_user_id(), $result, MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::PAGE ) );
		exit;
	}

	/**
	 * The comments list gets a column with the service's verdict.
	 *
	 * @param string[] $columns The columns.
	 * @return string[]
	 */
	public static function columns( $columns ) {
		$columns[ self::COLUMN ] = __( 'Moderation service', 'newsroom-moderation' );
		return $columns;
	}

	/**
	 * One comment's verdict: status, scores, reasons, a link to it in the console, and the last error.
	 *
	 * @param string $column     The column.
	 * @param int    $comment_id The comment.
	 */
	public static function column( $column, $comment_id ) {
		if ( self::COLUMN !== $column ) {
			return;
		}
		$our_id = (string) get_comment_meta( $comment_id, Newsroom_Moderation::META_ID, true );
		$status = (string) get_comment_meta( $comment_id, Newsroom_Moderation::META_STATUS, true );
		$scores = get_comment_meta( $comment_id, Newsroom_Moderation::META_SCORES, true );
		$reason = (string) get_comment_meta( $comment_id, Newsroom_Moderation::META_REASONS, true );
		$error  = (string) get_comment_meta( $comment_id, Newsroom_Moderation::META_ERROR, true );
		if ( '' !== (string) get_comment_meta( $comment_id, Newsroom_Moderation::META_RETRY, true ) ) {
			echo '<strong>' . esc_html__( 'Held: waiting for the service', 'newsroom-moderation' ) . '</strong><br />';
		} elseif ( '' !== $status ) {
			echo '<strong>' . esc_html( $status ) . '</strong><br />';
		}
		if ( is_array( $scores ) ) {
			printf(
				/* translators: 1: spam probability, 2: abuse probability */
				esc_html__( 'spam %1$s · abuse %2$s', 'newsroom-moderation' ),
				esc_html( number_format_i18n( (float) ( $scores['spam'] ?? 0 ), 2 ) ),
				esc_html( number_format_i18n( (float) ( $scores['abuse'] ?? 0 ), 2 ) )
			);
			echo '<br />';
		}
		if ( '' !== $reason ) {
			echo esc_html( str_replace( ',', ', ', $reason ) ) . '<br />';
		}
		if ( '' !== $our_id ) {
			$url = Newsroom_Moderation_Protocol::url( (string) get_option( 'newsroom_moderation_url', '' ), '/console/comments/' . rawurlencode( $our_id ) );
			echo '<a href="' . esc_url( $url ) . '" target="_blank" rel="noopener">' . esc_html__( 'Open in the console', 'newsroom-moderation' ) . '</a>';
		}
		if ( '' !== $error ) {
			echo '<br /><em>' . esc_html( $error ) . '</em>';
		}
	}
}
