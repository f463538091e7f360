package milter

import (
	"fmt"

	gomilter "github.com/d--j/go-milter"
)

// Protocol when the server holds messages (Server.Holder set): the adapter then needs
// the header fields and the body, and answers the body events, so that it can tell the
// MTA to skip the rest of a body it does not keep. It still needs no HELO, end of
// header or unknown command events, and sends no reply to connect and header events.
const (
	holdProtocol = gomilter.OptNoHelo | gomilter.OptNoUnknown | gomilter.OptNoEOH |
		gomilter.OptNoConnReply | gomilter.OptNoHeaderReply
	// optionalProtocol are the options the adapter takes when the MTA offers them, and
	// does without otherwise: skipping a body (SMFIP_SKIP), and header values with their
	// leading white space (SMFIP_HDR_LEADSPC), which make the held content exact.
	optionalProtocol = gomilter.OptSkip | gomilter.OptHeaderLeadingSpace
)

// negotiate is the library's negotiation (the MTA's version; every action and protocol
// option asked for must be offered) except that the options in optionalProtocol are
// taken only when offered.
func negotiate(mtaVersion, _ uint32, mtaActions, actions gomilter.OptAction, mtaProtocol, protocol gomilter.OptProtocol,
	offered gomilter.DataSize) (uint32, gomilter.OptAction, gomilter.OptProtocol, gomilter.DataSize, error) {
	if mtaVersion < 2 || mtaVersion > gomilter.MaxServerProtocolVersion {
		return 0, 0, 0, 0, fmt.Errorf("milter: negotiate: unsupported protocol version: %d", mtaVersion)
	}
	if actions&mtaActions != actions {
		return 0, 0, 0, 0, fmt.Errorf("milter: negotiate: MTA does not offer required actions. offered: %q requested: %q", mtaActions, actions)
	}
	if required := protocol &^ optionalProtocol; required&mtaProtocol != required {
		return 0, 0, 0, 0, fmt.Errorf("milter: negotiate: MTA does not offer required protocol options. offered: %q requested: %q", mtaProtocol, required)
	}
	return mtaVersion, actions, protocol & mtaProtocol, offered, nil
}
