package scan

import "strings"

// M365Format is a Microsoft 365 (Exchange Online) message trace export: the
// Get-MessageTrace / Get-MessageTraceV2 output saved as CSV and the portal's download
// (Received, SenderAddress, RecipientAddress, Status, MessageId, ...), or a historical
// search report (origin_timestamp_utc, sender_address, recipient_status, message_id, ...)
// where recipient_status holds "address##Event, Event" for each recipient, ";"-separated.
var M365Format = Format{
	Name: "m365",
	Detect: func(head []byte) bool {
		return detectCSV(head, []string{"SenderAddress|sender_address", "RecipientAddress|recipient_status|recipient_address"},
			[]string{"event-id", "EventId"})
	},
	New: func() Reader { return &csvReader{kind: m365Kind()} },
}

func m365Kind() *csvKind {
	return &csvKind{
		name: "m365",
		columns: []csvColumn{
			{role: "sender", names: []string{"SenderAddress", "sender_address", "Sender"}, required: true},
			{role: "recipient", names: []string{"RecipientAddress", "recipient_address", "Recipient"}},
			{role: "recipient_status", names: []string{"recipient_status"}},
			{role: "status", names: []string{"Status", "DeliveryStatus", "delivery_status"}},
			{role: "time", names: []string{"Received", "date_time_utc", "origin_timestamp_utc", "Date", "Date (UTC)", "ReceivedDateTime"}},
			{role: "message", names: []string{"MessageId", "message_id", "Message ID"}},
			{role: "to_ip", names: []string{"ToIP", "to_ip"}},
		},
		check: func(c csvRow) string {
			switch {
			case c.has("recipient") && !c.has("status") && !c.has("recipient_status"):
				return `the m365 export has no "Status" column`
			case !c.has("recipient") && !c.has("recipient_status"):
				return `the m365 export has no "RecipientAddress" column (nor "recipient_status")`
			}
			return ""
		},
		row: func(c csvRow, emit func(Record)) string {
			rec := Record{
				Time:    csvTime(c.get("time")),
				Sender:  cleanSender(c.get("sender")),
				Message: c.get("message"),
				Relay:   c.get("to_ip"),
			}
			if c.has("recipient") {
				status := c.get("status")
				o, keep := m365Status(status)
				if !keep {
					return ""
				}
				rec.Outcome, rec.Reply = o, status
				return csvEmitRecipients(c.get("recipient"), rec, emit)
			}
			// historical search: "a@x##Receive, Send;b@y##Receive, Fail"
			cell := c.get("recipient_status")
			problem := ""
			for _, part := range strings.Split(cell, ";") {
				addr, events, _ := strings.Cut(part, "##")
				o, keep := m365Events(events)
				if !keep {
					continue
				}
				rec.Outcome, rec.Reply = o, strings.TrimSpace(events)
				if msg := csvEmitRecipients(addr, rec, emit); msg != "" {
					problem = msg
				}
			}
			return problem
		},
	}
}

// m365Status maps a message trace Status; keep is false for a row that is not a delivery
// (a distribution group expanded: its members have rows of their own).
func m365Status(s string) (o Outcome, keep bool) {
	switch strings.ToLower(strings.ReplaceAll(s, " ", "")) {
	case "delivered", "resolved":
		return Sent, true
	case "failed":
		return Bounced, true
	case "quarantined", "filteredasspam":
		// Held by the service: it did not leave; counted with what bounced.
		return Bounced, true
	case "pending":
		return Deferred, true
	case "expanded":
		return Unknown, false
	}
	return Unknown, true
}

// m365Events maps a historical search recipient's events, the most telling first.
func m365Events(events string) (o Outcome, keep bool) {
	e := strings.ToLower(events)
	switch {
	case strings.Contains(e, "fail"), strings.Contains(e, "drop"):
		return Bounced, true
	case strings.Contains(e, "send"), strings.Contains(e, "deliver"):
		return Sent, true
	case strings.Contains(e, "defer"):
		return Deferred, true
	case strings.Contains(e, "expand") && !strings.Contains(e, "receive"):
		return Unknown, false
	}
	return Unknown, true
}
