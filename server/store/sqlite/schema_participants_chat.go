package sqlite

// 0006_participants_chat: every message reads its conversation's chat participants, in
// order, inside the write transaction (participantIdentities); this index answers that
// from the index alone, without a table lookup per participant and a sort.
var _ = register("0006_participants_chat", `
CREATE INDEX participants_chat ON participants(conversation_sid, type, id, identity);
`)
