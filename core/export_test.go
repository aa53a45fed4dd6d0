package core

// CachedMessages is the messages conv holds, in index order, for tests that check the cache
// against the server.
func CachedMessages(cv *Conversation) []*Message {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return append([]*Message(nil), cv.byIndex...)
}
