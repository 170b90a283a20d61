<?php
/**
 * The protocol's pure functions: signatures as the service makes them, and the status mapping both ways.
 *
 * @package Newsroom_Moderation
 */

use PHPUnit\Framework\TestCase;

/**
 * Newsroom_Moderation_Protocol.
 */
final class ProtocolTest extends TestCase {

	const SECRET = 'whsec_test';
	const BODY   = '{"id":"1-0","type":"comment.decided"}';
	// What moderation.webhooks.sign(SECRET, BODY, 1700000000) gives.
	const HEADER = 't=1700000000,v1=79c42c9941852df38bdd146ddf56e920a40724fa49ca664d2753d519a378ea3d';

	public function test_a_signature_of_the_service_verifies_within_five_minutes() {
		$this->assertTrue( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, self::HEADER, self::BODY, 1700000000 ) );
		$this->assertTrue( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, self::HEADER, self::BODY, 1700000300 ) );
		$this->assertTrue( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, self::HEADER, self::BODY, 1699999700 ) );
	}

	public function test_replays_tampering_and_other_secrets_are_refused() {
		$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, self::HEADER, self::BODY, 1700000301 ) );
		$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, self::HEADER, self::BODY . ' ', 1700000000 ) );
		$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( 'whsec_other', self::HEADER, self::BODY, 1700000000 ) );
		$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( '', self::HEADER, self::BODY, 1700000000 ) );
		$moved = str_replace( 't=1700000000', 't=1700000001', self::HEADER );
		$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, $moved, self::BODY, 1700000000 ) );
	}

	public function test_malformed_headers_are_refused() {
		foreach ( array( '', 't=1700000000', 'v1=abc', 't=soon,v1=abc', 't=1700000000,v1=', 'garbage' ) as $header ) {
			$this->assertFalse( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, $header, self::BODY, 1700000000 ), $header );
		}
	}

	public function test_any_of_several_signatures_may_match_during_a_secret_rotation() {
		$header = 't=1700000000,v1=' . str_repeat( '0', 64 ) . ',' . substr( self::HEADER, strlen( 't=1700000000,' ) );
		$this->assertTrue( Newsroom_Moderation_Protocol::verify_signature( self::SECRET, $header, self::BODY, 1700000000 ) );
	}

	public function test_service_statuses_map_to_wordpress_statuses() {
		$this->assertSame( 1, Newsroom_Moderation_Protocol::wp_status( 'published' ) );
		$this->assertSame( 0, Newsroom_Moderation_Protocol::wp_status( 'pending' ) );
		$this->assertSame( 'spam', Newsroom_Moderation_Protocol::wp_status( 'rejected' ) );
		$this->assertSame( 'spam', Newsroom_Moderation_Protocol::wp_status( 'rejected', 'spam' ) );
		$this->assertSame( 'trash', Newsroom_Moderation_Protocol::wp_status( 'rejected', 'abuse' ) );
		$this->assertNull( Newsroom_Moderation_Protocol::wp_status( 'archived' ) );
	}

	public function test_wordpress_decisions_map_to_the_services_and_back() {
		$this->assertSame( array( 'action' => 'approve' ), Newsroom_Moderation_Protocol::decision_for( 'approved' ) );
		$this->assertSame( array( 'action' => 'reject', 'reason' => 'spam' ), Newsroom_Moderation_Protocol::decision_for( 'spam' ) );
		$this->assertSame( array( 'action' => 'reject', 'reason' => 'other' ), Newsroom_Moderation_Protocol::decision_for( 'trash' ) );
		$this->assertNull( Newsroom_Moderation_Protocol::decision_for( 'unapproved' ) );
		// A decision sent from WordPress, once it comes back by webhook, names the status it already has.
		foreach ( array( 'approved', 'spam', 'trash' ) as $wp ) {
			$decision = Newsroom_Moderation_Protocol::decision_for( $wp );
			$status   = 'approve' === $decision['action'] ? 'published' : 'rejected';
			$this->assertSame( $wp, Newsroom_Moderation_Protocol::status_name( Newsroom_Moderation_Protocol::wp_status( $status, $decision['reason'] ?? '' ) ) );
		}
	}

	public function test_intake_answers_and_failures() {
		$this->assertSame( 'spam', Newsroom_Moderation_Protocol::intake_status( 201, array( 'id' => 'x', 'status' => 'rejected' ) ) );
		$this->assertSame( 1, Newsroom_Moderation_Protocol::intake_status( 201, array( 'id' => 'x', 'status' => 'published' ) ) );
		$this->assertSame( 'spam', Newsroom_Moderation_Protocol::intake_status( 403, array( 'type' => 'https://x/problems/author-suspended' ) ) );
		$this->assertNull( Newsroom_Moderation_Protocol::intake_status( 403, array( 'title' => 'Forbidden' ) ) );
		$this->assertNull( Newsroom_Moderation_Protocol::intake_status( 201, null ) );
		$this->assertNull( Newsroom_Moderation_Protocol::intake_status( 0, null ) );
		foreach ( array( 0, 408, 429, 500, 503 ) as $code ) {
			$this->assertTrue( Newsroom_Moderation_Protocol::is_transient( $code ), (string) $code );
		}
		foreach ( array( 400, 401, 403, 404, 409, 422 ) as $code ) {
			$this->assertFalse( Newsroom_Moderation_Protocol::is_transient( $code ), (string) $code );
		}
	}

	public function test_urls_join_without_a_double_slash() {
		$this->assertSame( 'https://m.example/v1/comments', Newsroom_Moderation_Protocol::url( 'https://m.example/', '/v1/comments' ) );
		$this->assertSame( 'https://m.example/v1/comments', Newsroom_Moderation_Protocol::url( 'https://m.example', '/v1/comments' ) );
	}
}
