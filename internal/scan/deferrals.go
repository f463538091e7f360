package scan

// deferrals are a message's recipients whose last word so far is a deferral: a later
// delivery or bounce settles one; the rest are reported as deferred when the message ends
// or is dropped from memory. At most maxDeferrals are kept per message.
type deferrals []Record

const maxDeferrals = 10_000

// settle forgets rcpt's deferral: a final status came.
func (d *deferrals) settle(rcpt string) {
	for i, r := range *d {
		if r.Recipient == rcpt {
			*d = append((*d)[:i], (*d)[i+1:]...)
			return
		}
	}
}

// add records r's deferral, replacing an earlier one of the same recipient.
func (d *deferrals) add(r Record) {
	for i := range *d {
		if (*d)[i].Recipient == r.Recipient {
			(*d)[i] = r
			return
		}
	}
	if len(*d) < maxDeferrals {
		*d = append(*d, r)
	}
}
