// Package call is the contact-center domain: calls, parties, roles, queues and the rules that decide
// what may happen. It does no transport and no RTP work; it holds the seams (Endpoint, MediaRoom)
// that signaling, the SIP gateway and the media rooms implement.
package call

import (
	"context"

	"github.com/contactcenter/vcc/media"
)

// Role is what a user is to the contact center.
type Role string

const (
	Customer   Role = "customer"
	Agent      Role = "agent"
	Supervisor Role = "supervisor"
	Admin      Role = "admin"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case Customer, Agent, Supervisor, Admin:
		return true
	}
	return false
}

// PartyID identifies a party within a call; it is the user id of the person.
type PartyID string

// CallID identifies a call.
type CallID string

// Caps is what an endpoint can send.
type Caps struct {
	Audio  bool
	Video  bool
	Screen bool
}

// Endpoint is one party's media transport: a browser peer, a SIP leg, a recorder, music on hold.
type Endpoint interface {
	ID() PartyID
	Role() Role
	Caps() Caps
	// Sources is what the party sends now. The set changes (tracks arrive after negotiation, a
	// screen share starts); OnSourcesChanged tells the room when to look again.
	Sources() []media.Source
	OnSourcesChanged(func())
	// Attach gives the party something to receive (it may renegotiate); Detach takes it away.
	Attach(media.Source) error
	Detach(media.Source)
	// Context ends when the leg ends; context.Cause tells why.
	Context() context.Context
	Close(reason error) error
}

// MediaRoom moves media between the endpoints of one call. Implemented by sfu.Room and mcu.Room.
// Until the first Apply every member receives every other member.
type MediaRoom interface {
	Join(Endpoint) error
	Leave(PartyID)
	Apply(Routing) error
	Close() error
}

// RoomFactory builds a media room of the given kind (ModeSFU or ModeMCU) for a call.
type RoomFactory func(CallID, Mode) (MediaRoom, error)

// Notifier delivers events to one user's client. Notify must not block.
type Notifier interface {
	Notify(Event)
}

// UserRef is a user as other users see it.
type UserRef struct {
	ID   string
	Name string
	Role Role
}
