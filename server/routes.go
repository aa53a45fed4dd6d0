package server

// routes registers every HTTP route of the server.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /v1/ws", s.serveWS)
	s.mux.HandleFunc("GET /healthz", s.serveHealth)
	if !s.cfg.DisableMetrics {
		s.mux.Handle("GET /metrics", s.serveMetrics())
	}
	s.mux.HandleFunc("POST /v1/dev/token", s.serveDevToken)

	s.mux.HandleFunc("POST /v1/media", s.serveMediaUpload)
	s.mux.HandleFunc("OPTIONS /v1/media", s.serveMediaPreflight)
	s.mux.HandleFunc("GET /v1/media/{sid}/content", s.serveMediaContent)

	// The admin REST API, under /v1/admin (adminRoute).
	s.adminRoute("POST /conversations", s.adminCreateConversation)
	s.adminRoute("GET /conversations", s.adminListConversations)
	s.adminRoute("GET /conversations/{conv}", s.adminGetConversation)
	s.adminRoute("PATCH /conversations/{conv}", s.adminUpdateConversation)
	s.adminRoute("POST /conversations/{conv}", s.adminUpdateConversation)
	s.adminRoute("DELETE /conversations/{conv}", s.adminDeleteConversation)

	s.adminRoute("GET /conversations/{conv}/participants", s.adminListParticipants)
	s.adminRoute("POST /conversations/{conv}/participants", s.adminAddParticipant)
	s.adminRoute("GET /conversations/{conv}/participants/{p}", s.adminGetParticipant)
	s.adminRoute("PATCH /conversations/{conv}/participants/{p}", s.adminUpdateParticipant)
	s.adminRoute("DELETE /conversations/{conv}/participants/{p}", s.adminRemoveParticipant)

	s.adminRoute("GET /conversations/{conv}/messages", s.adminListMessages)
	s.adminRoute("POST /conversations/{conv}/messages", s.adminSendMessage)
	s.adminRoute("GET /conversations/{conv}/messages/{m}", s.adminGetMessage)
	s.adminRoute("PATCH /conversations/{conv}/messages/{m}", s.adminUpdateMessage)
	s.adminRoute("DELETE /conversations/{conv}/messages/{m}", s.adminRemoveMessage)
	s.adminRoute("GET /conversations/{conv}/messages/{m}/receipts", s.adminListReceipts)
	s.adminRoute("PUT /conversations/{conv}/messages/{m}/receipts/{p}", s.adminUpsertReceipt)

	s.adminRoute("GET /users/{identity}", s.adminGetUser)
	s.adminRoute("PATCH /users/{identity}", s.adminUpdateUser)
	s.adminRoute("GET /users/{identity}/export", s.adminExportUser)
	s.adminRoute("DELETE /users/{identity}/data", s.adminEraseUser)

	s.adminRoute("POST /content", s.adminCreateContent)
	s.adminRoute("GET /content", s.adminListContent)
	s.adminRoute("GET /content/{sid}", s.adminGetContent)
	s.adminRoute("PATCH /content/{sid}", s.adminUpdateContent)
	s.adminRoute("DELETE /content/{sid}", s.adminDeleteContent)

	s.adminFileRoute("POST /backup", s.adminBackup)

	// Every path the API does not claim: the demo page, /sdk/...
	s.mux.Handle("/", s.staticHandler())
}
