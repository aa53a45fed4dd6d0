package postgres

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/internal/pgtest"
	"github.com/convo-sdk/convo/server/store/storetest"
)

// upgradeFixture is the part of the upgrade fixture (storetest.CheckUpgrade) that a
// migration's tables and columns hold: SQL valid right after that migration, run after the
// fixtures of every earlier one. It may fill in columns of rows an earlier one inserted.
// {now} stands for the current time in Unix milliseconds.
type upgradeFixture struct {
	rows storetest.UpgradeRows
	sql  string
}

// upgradeFixtures has an entry for every migration (TestEveryMigrationHasAnUpgradeFixture).
// A migration that adds no table or column has an entry with no rows and no SQL.
//
// Identity columns are generated: rows are inserted in the order that gives them the ids
// the sqlite fixture names.
var upgradeFixtures = map[string]upgradeFixture{
	"0001_base": {storetest.UpgradeRowsBase | storetest.UpgradeRowsFeatures | storetest.UpgradeRowsContent |
		storetest.UpgradeRowsWebhooks | storetest.UpgradeRowsBans | storetest.UpgradeRowsWebhookDone, `
INSERT INTO users (identity, friendly_name, attributes, date_created) VALUES
	('alice', 'Alice', '{"team":"a"}', 1700000000000),
	('bob', '', '{}', 1700000000001);
INSERT INTO conversations (sid, unique_name, friendly_name, attributes, created_by, date_created, date_updated,
	last_message_index, last_message_date, state, state_date, bindings, closed_after_ms, closed_at) VALUES
	('CH0000018bcfe5680000000000000001', 'upgrade-room', 'Upgrade room', '{"topic":"upgrades"}', 'alice',
	 1700000000010, 1700000000020, 1, 1700000000040, 'inactive', 1700000000050, '{"email":{"name":"Upgrade"}}',
	 86400000, 1700086400050);
INSERT INTO participants (sid, conversation_sid, identity, type, attributes, date_created, date_updated,
	notification_level, last_read_index, last_read_date, address, proxy_address) VALUES
	('MB0000018bcfe5680000000000000001', 'CH0000018bcfe5680000000000000001', 'alice', 'chat', '{"role":"host"}',
	 1700000000011, 1700000000011, 'muted', 0, 1700000000045, NULL, NULL),
	('MB0000018bcfe5680000000000000002', 'CH0000018bcfe5680000000000000001', 'bob', 'chat', '{}',
	 1700000000012, 1700000000012, 'default', NULL, NULL, NULL, NULL),
	('MB0000018bcfe5680000000000000003', 'CH0000018bcfe5680000000000000001', chr(1) || 'MB0000018bcfe5680000000000000003', 'sms', '{}',
	 1700000000013, 1700000000013, 'default', NULL, NULL, '+15550100', '+15550199');
INSERT INTO participant_bans (conversation_sid, identity, date_created) VALUES ('CH0000018bcfe5680000000000000001', 'carol', 1700000000090);
INSERT INTO messages (sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated,
	idempotency_key, subject, content_sid, content_variables, last_updated_by, channel_metadata) VALUES
	('IM0000018bcfe5680000000000000000', 'CH0000018bcfe5680000000000000001', 0, 'alice', 'MB0000018bcfe5680000000000000001',
	 'hello from an older version', '{"n":0}', 1700000000030, 1700000000030, 'key-0', 'Greetings',
	 'HX0000018bcfe5680000000000000001', '[{"name":"1","value":"friend"}]', 'bob', '{"type":"sms","data":{"sid":"SM1"}}'),
	('IM0000018bcfe5680000000000000001', 'CH0000018bcfe5680000000000000001', 1, 'bob', 'MB0000018bcfe5680000000000000002',
	 'second', '{}', 1700000000040, 1700000000040, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO media (sid, owner, category, filename, content_type, size, conversation_sid, message_sid, position, date_created) VALUES
	('ME0000018bcfe5680000000000000001', 'alice', 'media', 'photo.png', 'image/png', 1234,
	 'CH0000018bcfe5680000000000000001', 'IM0000018bcfe5680000000000000000', 0, 1700000000025),
	('ME0000018bcfe5680000000000000002', 'bob', 'media', '', 'text/plain', 5, NULL, NULL, NULL, 1700000000026);
INSERT INTO receipts (sid, message_sid, conversation_sid, participant_sid, channel_message_sid, status, error_code, date_created, date_updated) VALUES
	('DY0000018bcfe5680000000000000001', 'IM0000018bcfe5680000000000000000', 'CH0000018bcfe5680000000000000001',
	 'MB0000018bcfe5680000000000000003', 'SM1', 'delivered', 0, 1700000000060, 1700000000061);
INSERT INTO push_registrations (identity, channel_type, registration_id, date_created) VALUES ('alice', 'fcm', 'reg-alice', 1700000000005);
INSERT INTO streams (identity, epoch, next_offset) VALUES ('alice', 'epochalice00', 3), ('bob', 'epochbob0000', 2);
INSERT INTO events (name, payload, webhook_only, pos) VALUES
	('participantJoined', '{"sid":"MB0000018bcfe5680000000000000002"}', false, 1),
	('messageAdded', '{"sid":"IM0000018bcfe5680000000000000001"}', false, 2),
	('conversationCreated', '{"sid":"CH0000018bcfe5680000000000000001"}', true, 3);
INSERT INTO user_events (identity, stream_offset, event_id) VALUES ('alice', 1, 1), ('alice', 2, 2), ('bob', 1, 2);
INSERT INTO content_templates (sid, friendly_name, variables, variants, date_created, date_updated) VALUES
	('HX0000018bcfe5680000000000000001', 'Greeting', '[{"name":"1","value":"friend"}]', '{"twilio/text":{"body":"Hi {{1}}"}}',
	 1700000000070, 1700000000071);
UPDATE webhook_log SET head = 3;
UPDATE webhook_cursor SET pos = 2, enabled = true;
INSERT INTO webhook_outbox (delivery_id, type, body, attempts, next_attempt, created, done_at) VALUES
	('whd-0', 'onMessageAdded', '', 1, 1700000000076, 1700000000074, {now}),
	('whd-1', 'onMessageAdded', '{"MessageSid":"IM0000018bcfe5680000000000000001"}', 2, 1700000000080, 1700000000075, NULL);
`},
	"0010_limits": {storetest.UpgradeRowsLimits, `
INSERT INTO rate_buckets (key, tokens, at) VALUES ('upgrade:bucket', 0, {now});
INSERT INTO leases (key, holder, node, expires) VALUES ('upgrade:lease', 'h1', 'node1', {now} + 3600000);
`},
	// An index only: built over the message events of the earlier parts.
	"0012_events_by_message": {},
	// Indexes only: built over the conversation and participant events of the earlier parts.
	"0013_events_by_conversation": {},
}

func TestEveryMigrationHasAnUpgradeFixture(t *testing.T) {
	known := map[string]bool{}
	for _, m := range migrations {
		known[m.name] = true
		_, ok := upgradeFixtures[m.name]
		assert.True(t, ok, "migration %s has no entry in upgradeFixtures (upgrade_test.go): add the rows its tables and columns hold, see docs/DEPLOYMENT.md, Migrations", m.name)
	}
	for name := range upgradeFixtures {
		assert.True(t, known[name], "upgradeFixtures has %s, which is no migration", name)
	}
}

// testUpgradeFromEveryVersion builds a database as each version left it (the current one
// included, where opening changes nothing), fills it with the fixture rows that version's
// tables hold, opens it with Open and checks every row through the store. It runs in
// TestPostgres's cluster.
func testUpgradeFromEveryVersion(t *testing.T, srv *pgtest.Server) {
	for _, m := range orderedMigrations() {
		t.Run(m.name, func(t *testing.T) {
			dsn := srv.NewDatabase(t)
			rows := buildAt(t, dsn, m.name)
			s := open(t, dsn, Options{})
			names, err := s.AppliedMigrations(ctxT(t))
			require.NoError(t, err)
			assert.Len(t, names, len(migrations), "upgraded to the current version")
			var n int
			require.NoError(t, s.pool.QueryRow(ctxT(t), `SELECT COUNT(*) FROM participants WHERE identity = $1`,
				nonChatIdentity(storetest.UpgradeSMS)).Scan(&n))
			assert.Equal(t, 1, n, "the sms participant's identity placeholder")
			storetest.CheckUpgrade(t, s, rows)
		})
	}
}

// buildAt creates the schema in the database at dsn with the migrations up to and including
// last and the fixtures of each, and returns the fixture parts written.
func buildAt(t *testing.T, dsn, last string) storetest.UpgradeRows {
	t.Helper()
	ctx := ctxT(t)
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, migrateTo(ctx, pool, last))
	var newest string
	require.NoError(t, pool.QueryRow(ctx, `SELECT MAX(name) FROM schema_migrations`).Scan(&newest))
	require.Equal(t, last, newest, "built up to %s", last)
	subst := strings.NewReplacer("{now}", strconv.FormatInt(time.Now().UnixMilli(), 10))
	var rows storetest.UpgradeRows
	for _, m := range orderedMigrations() {
		if m.name > last {
			break
		}
		f, ok := upgradeFixtures[m.name]
		require.True(t, ok, "no upgrade fixture for %s", m.name)
		if f.sql != "" {
			_, err := pool.Exec(ctx, subst.Replace(f.sql))
			require.NoError(t, err, "upgrade fixture %s", m.name)
		}
		rows |= f.rows
	}
	return rows
}
