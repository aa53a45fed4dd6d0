package sqlite

// 0004_bans: who was removed from a conversation by someone else (its creator, the admin
// API). Such an identity cannot join again by sid until the creator or the admin API adds it,
// which deletes the row. Leaving on one's own records nothing.
var _ = register("0004_bans", `
CREATE TABLE participant_bans (
	conversation_sid TEXT   NOT NULL,
	identity         TEXT   NOT NULL,
	date_created     BIGINT NOT NULL,
	PRIMARY KEY (conversation_sid, identity)
);
`)
