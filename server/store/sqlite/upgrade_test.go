package sqlite

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convo-sdk/convo/server/store/storetest"
)

// upgradeFixture is the part of the upgrade fixture (storetest.CheckUpgrade) that a
// migration's tables and columns hold: SQL valid right after that migration, run after the
// fixtures of every earlier one. It may fill in columns of rows an earlier one inserted.
// {now} stands for the current time in Unix milliseconds, {bob_shard} for bob's
// pending_links shard.
type upgradeFixture struct {
	rows storetest.UpgradeRows
	sql  string
}

// upgradeFixtures has an entry for every migration (TestEveryMigrationHasAnUpgradeFixture).
// A migration that adds no table or column has an entry with no rows and no SQL.
var upgradeFixtures = map[string]upgradeFixture{
	"0001_base": {storetest.UpgradeRowsBase, `
INSERT INTO users (identity, friendly_name, attributes, date_created) VALUES
	('alice', 'Alice', '{"team":"a"}', 1700000000000),
	('bob', '', '{}', 1700000000001);
INSERT INTO conversations (id, sid, unique_name, friendly_name, attributes, created_by, date_created, date_updated, last_message_index, last_message_date) VALUES
	(1, 'CH0000018bcfe5680000000000000001', 'upgrade-room', 'Upgrade room', '{"topic":"upgrades"}', 'alice', 1700000000010, 1700000000020, 1, 1700000000040);
INSERT INTO participants (id, sid, conversation_sid, identity, type, attributes, date_created, date_updated) VALUES
	(1, 'MB0000018bcfe5680000000000000001', 'CH0000018bcfe5680000000000000001', 'alice', 'chat', '{"role":"host"}', 1700000000011, 1700000000011),
	(2, 'MB0000018bcfe5680000000000000002', 'CH0000018bcfe5680000000000000001', 'bob', 'chat', '{}', 1700000000012, 1700000000012);
INSERT INTO messages (sid, conversation_sid, idx, author, participant_sid, body, attributes, date_created, date_updated, idempotency_key) VALUES
	('IM0000018bcfe5680000000000000000', 'CH0000018bcfe5680000000000000001', 0, 'alice', 'MB0000018bcfe5680000000000000001', 'hello from an older version', '{"n":0}', 1700000000030, 1700000000030, 'key-0'),
	('IM0000018bcfe5680000000000000001', 'CH0000018bcfe5680000000000000001', 1, 'bob', 'MB0000018bcfe5680000000000000002', 'second', '{}', 1700000000040, 1700000000040, NULL);
INSERT INTO streams (identity, epoch, next_offset) VALUES ('alice', 'epochalice00', 3), ('bob', 'epochbob0000', 2);
INSERT INTO events (id, name, payload) VALUES
	(1, 'participantJoined', '{"sid":"MB0000018bcfe5680000000000000002"}'),
	(2, 'messageAdded', '{"sid":"IM0000018bcfe5680000000000000001"}');
INSERT INTO user_events (identity, stream_offset, event_id) VALUES ('alice', 1, 1), ('alice', 2, 2), ('bob', 1, 2);
`},
	"0002_features": {storetest.UpgradeRowsFeatures, `
UPDATE conversations SET state = 'inactive', state_date = 1700000000050, bindings = '{"email":{"name":"Upgrade"}}',
	closed_after_ms = 86400000, closed_at = 1700086400050;
UPDATE participants SET notification_level = 'muted', last_read_index = 0, last_read_date = 1700000000045 WHERE identity = 'alice';
INSERT INTO participants (id, sid, conversation_sid, identity, type, attributes, date_created, date_updated, address, proxy_address) VALUES
	(3, 'MB0000018bcfe5680000000000000003', 'CH0000018bcfe5680000000000000001', char(0) || 'MB0000018bcfe5680000000000000003',
	 'sms', '{}', 1700000000013, 1700000000013, '+15550100', '+15550199');
UPDATE messages SET subject = 'Greetings', content_sid = 'HX0000018bcfe5680000000000000001',
	content_variables = '[{"name":"1","value":"friend"}]', last_updated_by = 'bob',
	channel_metadata = '{"type":"sms","data":{"sid":"SM1"}}'
	WHERE sid = 'IM0000018bcfe5680000000000000000';
INSERT INTO media (sid, owner, category, filename, content_type, size, conversation_sid, message_sid, position, date_created) VALUES
	('ME0000018bcfe5680000000000000001', 'alice', 'media', 'photo.png', 'image/png', 1234,
	 'CH0000018bcfe5680000000000000001', 'IM0000018bcfe5680000000000000000', 0, 1700000000025),
	('ME0000018bcfe5680000000000000002', 'bob', 'media', '', 'text/plain', 5, NULL, NULL, NULL, 1700000000026);
INSERT INTO receipts (sid, message_sid, conversation_sid, participant_sid, channel_message_sid, status, error_code, date_created, date_updated) VALUES
	('DY0000018bcfe5680000000000000001', 'IM0000018bcfe5680000000000000000', 'CH0000018bcfe5680000000000000001',
	 'MB0000018bcfe5680000000000000003', 'SM1', 'delivered', 0, 1700000000060, 1700000000061);
INSERT INTO push_registrations (identity, channel_type, registration_id, date_created) VALUES ('alice', 'fcm', 'reg-alice', 1700000000005);
INSERT INTO events (id, name, payload, webhook_only) VALUES (3, 'conversationCreated', '{"sid":"CH0000018bcfe5680000000000000001"}', 1);
`},
	"0003_admin": {storetest.UpgradeRowsContent | storetest.UpgradeRowsWebhooks, `
INSERT INTO content_templates (id, sid, friendly_name, variables, variants, date_created, date_updated) VALUES
	(1, 'HX0000018bcfe5680000000000000001', 'Greeting', '[{"name":"1","value":"friend"}]', '{"twilio/text":{"body":"Hi {{1}}"}}',
	 1700000000070, 1700000000071);
UPDATE webhook_cursor SET event_id = 2, enabled = 1;
INSERT INTO webhook_outbox (seq, delivery_id, type, body, attempts, next_attempt, created) VALUES
	(1, 'whd-1', 'onMessageAdded', '{"MessageSid":"IM0000018bcfe5680000000000000001"}', 2, 1700000000080, 1700000000075);
`},
	"0004_bans": {storetest.UpgradeRowsBans, `
INSERT INTO participant_bans (conversation_sid, identity, date_created) VALUES ('CH0000018bcfe5680000000000000001', 'carol', 1700000000090);
`},
	"0005_webhook_done": {storetest.UpgradeRowsWebhookDone, `
INSERT INTO webhook_done (delivery_id, done_at) VALUES ('whd-0', {now});
`},
	"0006_participants_chat": {}, // an index
	"0007_streams_compact":   {}, // rebuilds user_events and streams: the base rows check it
	// A version from before 0009 counted streams.next_offset at every commit, pending links
	// included.
	"0008_pending_links": {storetest.UpgradeRowsPendingLinks, `
INSERT INTO events (id, name, payload) VALUES (4, 'messageUpdated', '{"sid":"IM0000018bcfe5680000000000000000"}');
INSERT INTO pending_links (shard, event_id, identity, stream_offset) VALUES ({bob_shard}, 4, 'bob', 2);
UPDATE streams SET next_offset = 3 WHERE identity = 'bob';
`},
	"0009_stream_floors": {}, // changes no table
	"0010_limits": {storetest.UpgradeRowsLimits, `
INSERT INTO rate_buckets (key, tokens, at) VALUES ('upgrade:bucket', 0, {now});
INSERT INTO leases (key, holder, node, expires) VALUES ('upgrade:lease', 'h1', 'node1', {now} + 3600000);
`},
	// restore_marks is empty in every database convod serves: only a backup's copy holds a
	// row, and the first Open of the copy deletes it (backup.go, backup_test.go). A row here
	// would give the streams new epochs, which CheckUpgrade rightly finds unchanged.
	"0011_restore_marks": {},
	// An index only: built over the message events of the earlier parts.
	"0012_events_by_message": {},
	// Indexes only: built over the conversation and participant events of the earlier parts.
	"0013_events_by_conversation": {},
}

func TestEveryMigrationHasAnUpgradeFixture(t *testing.T) {
	for _, m := range migrations {
		_, ok := upgradeFixtures[m.name]
		assert.True(t, ok, "migration %s has no entry in upgradeFixtures (upgrade_test.go): add the rows its tables and columns hold, see docs/DEPLOYMENT.md, Migrations", m.name)
	}
	known := map[string]bool{}
	for _, m := range migrations {
		known[m.name] = true
	}
	for name := range upgradeFixtures {
		assert.True(t, known[name], "upgradeFixtures has %s, which is no migration", name)
	}
}

// TestUpgradeFromEveryVersion builds a database as each version left it (the current one
// included, where opening changes nothing), fills it with the fixture rows that version's
// tables hold, opens it with Open and checks every row through the store.
func TestUpgradeFromEveryVersion(t *testing.T) {
	for _, m := range orderedMigrations() {
		t.Run(m.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "convo.db")
			rows := buildAt(t, path, m.name)
			s := open(t, path, Options{})
			names, err := s.AppliedMigrations(ctxT(t))
			require.NoError(t, err)
			assert.Len(t, names, len(migrations), "upgraded to the current version")
			if rows&storetest.UpgradeRowsFeatures != 0 {
				var n int
				require.NoError(t, s.r.QueryRow(`SELECT COUNT(*) FROM participants WHERE identity = ?`,
					nonChatIdentity(storetest.UpgradeSMS)).Scan(&n))
				assert.Equal(t, 1, n, "the sms participant's identity placeholder")
			}
			storetest.CheckUpgrade(t, s, rows)
		})
	}
}

// buildAt creates the database at path with the migrations up to and including last and
// the fixtures of each, and returns the fixture parts written.
func buildAt(t *testing.T, path, last string) storetest.UpgradeRows {
	t.Helper()
	q := url.Values{"_pragma": {"foreign_keys(1)", "journal_mode(WAL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	require.NoError(t, migrateTo(db, last))
	names, err := queryStrings(ctxT(t), db, `SELECT name FROM schema_migrations ORDER BY name`)
	require.NoError(t, err)
	require.Equal(t, last, names[len(names)-1], "built up to %s", last)
	subst := strings.NewReplacer("{now}", strconv.FormatInt(time.Now().UnixMilli(), 10),
		"{bob_shard}", strconv.Itoa(linkShard("bob")))
	var rows storetest.UpgradeRows
	for _, m := range orderedMigrations() {
		if m.name > last {
			break
		}
		f, ok := upgradeFixtures[m.name]
		require.True(t, ok, "no upgrade fixture for %s", m.name)
		if f.sql != "" {
			_, err := db.Exec(subst.Replace(f.sql))
			require.NoError(t, err, "upgrade fixture %s", m.name)
		}
		rows |= f.rows
	}
	return rows
}

func TestMigrateToRefusesAnUnknownMigration(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "convo.db"))
	require.NoError(t, err)
	defer db.Close()
	err = migrateTo(db, "0002_no_such")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no migration "0002_no_such"`)
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'conversations'`).Scan(&n))
	assert.Zero(t, n, "nothing applied")
}
