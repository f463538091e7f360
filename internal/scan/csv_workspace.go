package scan

import "strings"

// WorkspaceFormat is a Google Workspace email log search export (Admin console, Reporting,
// Email log search, Export): Message ID, Start date, Sender, Recipient address, Event
// target, Event status, Event SMTP reply code, ... The rows of a message received
// (SMTP_IN) or handed to a list server are not deliveries and are not reported.
var WorkspaceFormat = Format{
	Name: "workspace",
	Detect: func(head []byte) bool {
		return detectCSV(head, []string{"Sender", "Recipient address|Recipient", "Message ID|Event target|Start date|Event status"},
			[]string{"SenderAddress", "sender_address", "event-id", "EventId"})
	},
	New: func() Reader { return &csvReader{kind: workspaceKind()} },
}

func workspaceKind() *csvKind {
	return &csvKind{
		name: "workspace",
		columns: []csvColumn{
			{role: "sender", names: []string{"Sender", "From"}, required: true},
			{role: "recipient", names: []string{"Recipient address", "Recipient", "Recipients", "To"}, required: true},
			{role: "time", names: []string{"Start date", "Date", "Event date", "Time", "End date"}},
			{role: "message", names: []string{"Message ID", "Message-ID"}},
			{role: "status", names: []string{"Event status", "Status", "Event", "Delivery status"}},
			{role: "target", names: []string{"Event target"}},
			{role: "code", names: []string{"Event SMTP reply code", "SMTP reply code", "Reply code"}},
			{role: "reply", names: []string{"Event description", "Event SMTP reply", "Description"}},
			{role: "relay", names: []string{"Event target IP address", "Destination IP"}},
		},
		row: func(c csvRow, emit func(Record)) string {
			switch strings.ToUpper(c.get("target")) {
			case "SMTP_IN", "LIST_SERVER", "ARCHIVE_LIST_SERVER":
				return ""
			}
			rec := Record{
				Time:    csvTime(c.get("time")),
				Sender:  cleanSender(firstAddress(c.get("sender"))),
				Message: strings.Trim(c.get("message"), "<>"),
				Relay:   c.get("relay"),
				Reply:   strings.TrimSpace(c.get("code") + " " + c.get("reply")),
			}
			rec.Outcome = workspaceOutcome(c.get("status"), c.get("code"))
			return csvEmitRecipients(c.get("recipient"), rec, emit)
		},
	}
}

// firstAddress: the sender cell may name a delegate after the account.
func firstAddress(s string) string {
	for _, a := range csvAddresses(s) {
		if _, ok := cleanAddress(a); ok {
			return a
		}
	}
	return s
}

// workspaceOutcome maps the event's status words, else its SMTP reply code.
func workspaceOutcome(status, code string) Outcome {
	s := strings.ToLower(status)
	switch {
	case strings.Contains(s, "bounce"), strings.Contains(s, "reject"), strings.Contains(s, "fail"),
		strings.Contains(s, "drop"), strings.Contains(s, "quarantin"):
		return Bounced
	case strings.Contains(s, "defer"), strings.Contains(s, "temporar"), strings.Contains(s, "retry"):
		return Deferred
	case strings.Contains(s, "deliver"), strings.Contains(s, "sent"), strings.Contains(s, "accept"):
		return Sent
	}
	switch code = strings.TrimSpace(code); code {
	case "":
	default:
		switch code[0] {
		case '2':
			return Sent
		case '4':
			return Deferred
		case '5':
			return Bounced
		}
	}
	return Unknown
}
