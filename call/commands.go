package call

// The commands of a call. By is always the party (or supervisor) asking; the center has already
// authenticated who that is.
type (
	// Join adds a party: the customer on arrival, an agent on accept, a helper answering a consult.
	// Party.As may be left empty: the rules then derive it from the user's role.
	Join struct{ Party Party }
	// Leave removes a party: it hung up or exited (R11, R12), or its connection ended.
	Leave struct {
		Party  PartyID
		Reason error
	}
	// End ends the call for everyone: the controlling agent's "end conference" (R13), or the system
	// (By empty) at shutdown.
	End struct {
		By     PartyID
		Reason error
	}
	// SetMedia records what a party sends (R19-R21 depend on it).
	SetMedia struct {
		Party        PartyID
		Audio, Video bool
	}
	// SetPhase moves a waiting call between queued and ringing (decided by routing).
	SetPhase struct{ Phase Phase }
	// StartConsult seeks help (R8, R9) or starts a consultative transfer (R18).
	StartConsult struct {
		By       PartyID
		Target   Target
		Transfer bool
	}
	// ConsultFailed reports that the target declined, did not answer or could not be reached.
	ConsultFailed struct{ Outcome string }
	// ConsultRinging reports that the number consulted is ringing (SIP 180/183): until then the
	// network is still trying it.
	ConsultRinging struct{ Target string }
	// TransferFailed: the number a customer was blindly transferred to did not answer (R17).
	TransferFailed struct{ Outcome string }
	// CancelConsult drops the helper (or stops the ringing) and resumes the customer (R9, R18).
	CancelConsult struct{ By PartyID }
	// StartConference joins the customer, the agent and the helper (R9).
	StartConference struct{ By PartyID }
	// CompleteTransfer hands the customer to the consulted target (R18).
	CompleteTransfer struct{ By PartyID }
	// BlindTransfer hands the customer over at once (R17).
	BlindTransfer struct {
		By     PartyID
		Target Target
	}
	// Hold and Resume put a party on hold and back (R15, R16).
	Hold struct {
		By, Party PartyID
	}
	Resume struct {
		By, Party PartyID
	}
	// ScreenShare starts or stops a party's screen share (R19, R20).
	ScreenShare struct {
		By PartyID
		On bool
	}
	// SetLayout is one viewer's choice of layout in an MCU call (R21).
	SetLayout struct {
		By     PartyID
		Layout string
	}
	// Monitor starts silent monitoring, or barge-in, by a supervisor (R23, R24).
	Monitor struct {
		Supervisor UserRef
		Barge      bool
	}
	// StopMonitor ends a supervisor's presence.
	StopMonitor struct{ Supervisor string }
	// SetRecording starts or stops recording on demand (R26).
	SetRecording struct {
		By PartyID
		On bool
	}
	// AddTag attaches a short text to the recording at this moment (R26).
	AddTag struct {
		By   PartyID
		Text string
	}
)

func (Join) command()             {}
func (Leave) command()            {}
func (End) command()              {}
func (SetMedia) command()         {}
func (SetPhase) command()         {}
func (StartConsult) command()     {}
func (ConsultFailed) command()    {}
func (ConsultRinging) command()   {}
func (CancelConsult) command()    {}
func (StartConference) command()  {}
func (CompleteTransfer) command() {}
func (BlindTransfer) command()    {}
func (Hold) command()             {}
func (Resume) command()           {}
func (ScreenShare) command()      {}
func (SetLayout) command()        {}
func (TransferFailed) command()   {}
func (Monitor) command()          {}
func (StopMonitor) command()      {}
func (SetRecording) command()     {}
func (AddTag) command()           {}

// Layouts a viewer may choose in an MCU call (R21).
const (
	LayoutEqual       = "equal"
	LayoutMaxCustomer = "max_customer"
	LayoutMaxAgent    = "max_agent"
	LayoutMaxThird    = "max_third"
	// LayoutScreenShare is not chosen: a running share imposes it on every viewer (R22).
	LayoutScreenShare = "screen_share"
)
