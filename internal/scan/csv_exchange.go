package scan

import (
	"fmt"
	"strings"
)

// ExchangeFormat is Exchange Server message tracking: the log files themselves
// ("#Software: Microsoft Exchange Server", "#Fields: date-time,...,event-id,...") and
// their CSV exports (Get-MessageTrackingLog | Export-Csv: Timestamp, EventId, Sender,
// Recipients, MessageId, RecipientStatus, ...). SEND and DELIVER are sent, FAIL and DROP
// bounced; a DEFER is the last word only when nothing later settles the recipient.
var ExchangeFormat = Format{
	Name: "exchange",
	Detect: func(head []byte) bool {
		if h := csvDecodeHead(head[:min(len(head), 128)]); strings.HasPrefix(strings.TrimPrefix(string(h), "\ufeff"), "#Software: Microsoft Exchange") {
			return true
		}
		return detectCSV(head, []string{"event-id|EventId", "recipient-address|Recipients"}, nil)
	},
	New: func() Reader { return &csvReader{kind: exchangeKind(openMessagesMax)} },
}

func exchangeKind(max int) *csvKind {
	deferred := newOpenSet[Record](max)
	k := &csvKind{
		name: "exchange",
		columns: []csvColumn{
			{role: "event", names: []string{"event-id", "EventId"}, required: true},
			{role: "recipient", names: []string{"recipient-address", "Recipients", "RecipientAddress"}, required: true},
			{role: "sender", names: []string{"sender-address", "Sender", "SenderAddress"}, required: true},
			{role: "time", names: []string{"date-time", "Timestamp"}},
			{role: "message", names: []string{"message-id", "MessageId"}},
			{role: "status", names: []string{"recipient-status", "RecipientStatus"}},
		},
	}
	k.row = func(c csvRow, emit func(Record)) string {
		var o Outcome
		switch strings.ToUpper(c.get("event")) {
		case "SEND", "SENDEXTERNAL", "DELIVER", "DUPLICATEDELIVER":
			o = Sent
		case "FAIL", "DROP":
			o = Bounced
		case "DEFER":
			o = Deferred
		default:
			return "" // RECEIVE, SUBMIT, EXPAND, RESOLVE, TRANSFER, DSN, ...: not an outcome
		}
		rec := Record{
			Time:    csvTime(c.get("time")),
			Sender:  cleanSender(c.get("sender")),
			Message: strings.Trim(c.get("message"), "<>"),
			Reply:   c.get("status"),
			Outcome: o,
			Source:  c.source,
			Line:    c.line,
		}
		msg := csvEmitRecipients(c.get("recipient"), rec, func(r Record) {
			key := r.Message + "\x00" + strings.ToLower(r.Recipient)
			if r.Message == "" {
				emit(r)
				return
			}
			if o == Deferred {
				deferred.remove(key)
				deferred.put(key, r, func(_ string, ev Record) {
					c.skip(Problem{Source: ev.Source, Line: ev.Line, Text: fmt.Sprintf(
						"deferral of %s to %s still open after %d newer ones: dropped from memory, reported as deferred",
						ev.Message, ev.Recipient, max)})
					emit(ev)
				})
				return
			}
			deferred.remove(key)
			emit(r)
		})
		return msg
	}
	k.flush = func(emit func(Record)) {
		deferred.drain(func(_ string, r Record) { emit(r) })
	}
	return k
}
