package call

import "strconv"

// A phone can put the call on hold from its side (a re-INVITE with a=sendonly or a=inactive, its
// own hold music). The call goes on; the agents are shown that the phone holds, so that they do
// not talk into silence. Nothing is rerouted: when the phone resumes it is heard at once.

// HoldReporter is an endpoint whose party can hold the call from its side (a phone leg).
type HoldReporter interface{ OnRemoteHold(func(held bool)) }

// RemoteHold reports that a party holds (or resumes) the call from its side.
type RemoteHold struct {
	Party PartyID
	Held  bool
}

func (RemoteHold) command() {}

func (r *rules) remoteHold(c RemoteHold) error {
	p, err := r.actor(c.Party)
	if err != nil {
		return err
	}
	if p.RemoteHold == c.Held {
		return nil // a refresh re-INVITE restates the direction: nothing changed
	}
	p.RemoteHold = c.Held
	r.set(p)
	r.log(RecRemoteHold, string(p.ID()), string(p.As), "held", strconv.FormatBool(c.Held))
	r.emit(Publish{})
	return nil
}
