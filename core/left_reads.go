package core

import (
	"context"
)

// Reads on a conversation the user has left answer from what the client held when it left,
// as the vendor's do: its Conversation keeps its participants and messages after the
// conversation leaves the user's list, and the server would refuse the reads (40300).

// isLeft reports whether the user left cv (or was removed, or it was deleted).
func (cv *Conversation) isLeft() bool {
	cv.client.mu.Lock()
	defer cv.client.mu.Unlock()
	return cv.left
}

// heldParticipants are the participants cv knew when the user left, oldest first.
func (cv *Conversation) heldParticipants() []*Participant {
	cv.client.mu.Lock()
	out := make([]*Participant, 0, len(cv.participants))
	for _, p := range cv.participants {
		out = append(out, p)
	}
	cv.client.mu.Unlock()
	sortByCreation(out)
	return out
}

// heldMessages pages the cached messages the way GetMessages pages the server's: ascending
// index order, backwards ending at anchor (the newest when nil), forward starting there.
func (cv *Conversation) heldMessages(pageSize int, anchor *int64, direction Direction) *Paginator[*Message] {
	cv.client.mu.Lock()
	all := make([]*Message, len(cv.byIndex))
	copy(all, cv.byIndex)
	cv.client.mu.Unlock()
	var start, end int
	if direction == Forward {
		if anchor != nil {
			start = firstIndex(len(all), func(i int) bool { return all[i].Index() >= *anchor })
		}
		end = min(start+pageSize, len(all))
	} else {
		end = len(all)
		if anchor != nil {
			end = firstIndex(len(all), func(i int) bool { return all[i].Index() > *anchor })
		}
		start = max(end-pageSize, 0)
	}
	items := all[start:end:end]
	p := &Paginator[*Message]{Items: items, HasPrevPage: start > 0, HasNextPage: end < len(all)}
	linkMessagePages(p, func(_ context.Context, anchor int64, direction Direction) (*Paginator[*Message], error) {
		return cv.heldMessages(pageSize, &anchor, direction), nil
	})
	return p
}
