package store

import (
	"context"
	"time"

	"github.com/convo-sdk/convo/wire"
)

// LifecycleStore keeps a conversation's lifecycle state (active, inactive, closed) and the
// timers that move it.
type LifecycleStore interface {
	// SetConversationTimers sets (0: clears) the durations after which an active conversation
	// without new messages becomes inactive, and any conversation closed. The deadlines run
	// from now and restart with every message. (For the admin API.)
	SetConversationTimers(ctx context.Context, sid string, inactiveAfter, closedAfter time.Duration) error
	// SetConversationState sets the lifecycle state (wire.StateActive, StateInactive,
	// StateClosed) and emits conversationUpdated (reason state) to every participant when it
	// changed. Activating restarts the timers. (For the admin API.)
	SetConversationState(ctx context.Context, sid, state string) (wire.Conversation, []Delivery, error)
	// AdvanceConversationStates moves the conversations whose deadlines passed by now to
	// inactive or closed, with the events of SetConversationState.
	AdvanceConversationStates(ctx context.Context, now time.Time) ([]Delivery, error)
}
