package content

import (
	"context"
	"strings"
	"testing"
)

// body classifies a plain-text message with the given body.
func body(t testing.TB, c *Classifier, text string) Result {
	t.Helper()
	msg := "From: a@example.com\r\nTo: b@example.net\r\nSubject: test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(text, "\n", "\r\n")
	return c.Classify(context.Background(), strings.NewReader(msg))
}

func classifier(t testing.TB, cfg Config) *Classifier {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type caseT struct {
	name, text string
	want       bool
	evidence   string // when want, this evidence kind must be counted
}

func runCases(t *testing.T, cat Category, cases []caseT) {
	t.Helper()
	c := classifier(t, Config{})
	for _, tc := range cases {
		r := body(t, c, tc.text)
		if r.Has(cat) != tc.want {
			t.Errorf("%s: %s found = %v, want %v (%+v)", tc.name, cat, r.Has(cat), tc.want, r.Findings)
			continue
		}
		if tc.want && tc.evidence != "" {
			for _, f := range r.Findings {
				if f.Category == cat && f.Evidence[tc.evidence] == 0 {
					t.Errorf("%s: no %q evidence in %+v", tc.name, tc.evidence, f.Evidence)
				}
			}
		}
	}
}

func TestCredentials(t *testing.T) {
	runCases(t, Credentials, []caseT{
		{"english", "login: bob\nPassword: hunter2!x", true, evPassword},
		{"french", "Mot de passe : Soleil2024", true, evPassword},
		{"german", "Passwort: Geheim#99", true, evPassword},
		{"spanish", "Contraseña: Verano$24", true, evPassword},
		{"dutch", "Wachtwoord: fiets-42", true, evPassword},
		{"config line", "db_password = s3cr3tValue", true, evPassword},
		{"pwd equals", "pwd=Xy7!abcd", true, evPassword},
		{"pin", "PIN: 4821", true, evPassword},
		{"pin word", "Pin: location on the map", false, ""},
		{"rsa key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", true, evPrivateKey},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", false, ""},
		{"aws", "key AKIAIOSFODNN7EXAMPLE", true, evToken},
		{"github", "ghp_0123456789abcdefghijABCDEFGHIJ012345", true, evToken},
		{"slack", "xoxb-123456789012-abcdefghijkl", true, evToken},
		{"google", "AIzaSyA-1234567890abcdefghijklmnopqrstu", true, evToken},
		{"jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", true, evToken},
		{"forgot footer", "Forgot your password? Reset it here.", false, ""},
		{"reset link", "Reset your password: https://example.com/reset", false, ""},
		{"phrase", "Password: click here to change it", false, ""},
		{"masked", "Password: ********", false, ""},
		{"sent separately", "Password: (sent separately)", false, ""},
		{"policy", "Passwords must be 12 characters long.", false, ""},
		{"french footer", "Mot de passe oublié ? Cliquez ici.", false, ""},
	})
}

func TestPersonal(t *testing.T) {
	runCases(t, Personal, []caseT{
		{"ssn dashed", "SSN 536-22-1234", true, evSSN},
		{"ssn plain with keyword", "Social security number:\n536221234", true, evSSN},
		{"ssn plain without keyword", "ref 536221234", false, ""},
		{"ssn area 000", "000-12-3456", false, ""},
		{"ssn area 666", "666-12-3456", false, ""},
		{"ssn area 9xx", "912-12-3456", false, ""},
		{"ssn group 00", "536-00-1234", false, ""},
		{"ssn serial 0000", "536-22-0000", false, ""},
		{"iban", "IBAN: GB82 WEST 1234 5698 7654 32", true, evIBAN},
		{"iban compact", "FR1420041010050500013M02606", true, evIBAN},
		{"iban bad check", "GB83 WEST 1234 5698 7654 32", false, ""},
		{"card", "card 4111111111111111", true, evCard},
		{"card amex grouped", "3782 822463 10005", true, evCard},
		{"order number failing luhn", "Order number: 4111111111111112", false, ""},
		{"luhn but no issuer", "ref 1234567812345670", false, ""},
		{"card odd grouping", "41 1111 1111 1111 11", false, ""},
		{"dob", "DOB: 1985-03-12", true, evDOB},
		{"dob next line", "Date of birth\n12.03.1985", true, evDOB},
		{"geboren", "geboren am 12.03.1985 in Köln", true, evDOB},
		{"date without keyword", "Meeting on 12/03/2025", false, ""},
		{"dob keyword far away", "Date of birth\n\n\n\n\n12/03/1985", false, ""},
		{"passport", "Passport No: 123456789", true, evPassport},
		{"passport number alone", "Ref 123456789 ABX9876543", false, ""},
		{"passport word alone", "Bring your passport.", false, ""},
	})
}

func TestMedical(t *testing.T) {
	runCases(t, Medical, []caseT{
		{"record", "Patient admitted. Diagnosis: pneumonia. Prescribed amoxicillin, dosage 500 mg. Symptoms improved. Biopsy pending.", true, evMedTerm},
		{"icd near diagnosis", "Diagnosis: J45.909 asthma", true, evICD},
		{"icd alone", "Part number J45.909 is out of stock", false, ""},
		{"one term", "Thanks for being patient with us.", false, ""},
		{"few terms", "The surgery of the car engine needs a diagnosis.", false, ""},
	})
}

func TestMarkings(t *testing.T) {
	runCases(t, Markings, []caseT{
		{"banner", "TOP SECRET//SI//NOFORN\ntext", true, evBanner},
		{"confidential banner", "CONFIDENTIAL\n\nThe figures.", true, evBanner},
		{"cui", "CUI\ntext", true, evBanner},
		{"official sensitive", "OFFICIAL-SENSITIVE", true, evBanner},
		{"restreint", "RESTREINT UE", true, evBanner},
		{"portion mark", "(S//NF) The route.", true, evPortion},
		{"bare portion marks", "(S) First paragraph.\n(C) Second paragraph.", true, evPortion},
		{"one bare portion mark", "(C) Acme Corporation", false, ""},
		{"copyright", "(C) 2024 Acme", false, ""},
		{"disclaimer", "This e-mail is confidential and intended solely for the addressee.", false, ""},
		{"notice", "CONFIDENTIALITY NOTICE: This message is for the named person only.", false, ""},
		{"sentence", "CONFIDENTIAL: please do not forward this e-mail.", false, ""},
		{"lowercase", "secret//noforn", false, ""},
		{"secretary", "SECRETARY GENERAL", false, ""},
		{"mixed-case line", "Confidential", false, ""},
	})
	c := classifier(t, Config{Markings: []string{"ACME INTERNAL"}})
	if r := body(t, c, "ACME INTERNAL\nplans"); !r.Has(Markings) {
		t.Errorf("configured marking not found: %+v", r)
	}
	if r := body(t, classifier(t, Config{}), "ACME INTERNAL\nplans"); r.Has(Markings) {
		t.Errorf("unconfigured marking found: %+v", r)
	}
}

func TestTravel(t *testing.T) {
	runCases(t, Travel, []caseT{
		{"flight", "Flight BA 117 on 12 Mar 2025", true, evFlight},
		{"flight date next line", "LH400 Frankfurt - JFK\nDeparture 14/03/2025 10:05", true, evFlight},
		{"flight date next line, no capital", "LH400 Frankfurt - JFK\n14/03/2025 10:05", true, evFlight},
		{"flight no date", "We flew BA 117 last time.", false, ""},
		{"date line before flight", "Tuesday 14/03/2025\nLH400 Frankfurt - JFK 10:05", true, evFlight},
		{"year like", "AI 2025 strategy on 12/03/2025", false, ""},
		{"time", "Call at AA 10:30 on 12/03", false, ""},
		{"pnr", "Booking reference: XKJ4QL", true, evBooking},
		{"pnr without keyword", "code XKJ4QL", false, ""},
		{"booking number word", "BOOKING NUMBER", false, ""},
		{"hotel", "Hotel Bristol\nConfirmation number: 83412207", true, evHotel},
		{"order confirmation", "Order confirmation number: 83412207", false, ""},
	})
}

func TestBulk(t *testing.T) {
	var emails, few, names, noHeader strings.Builder
	for i := 0; i < 60; i++ {
		emails.WriteString("Person " + itoa(i%10) + " <p" + itoa(i%10) + "x" + itoa(i/10) + "@example.org>\n")
	}
	for i := 0; i < 10; i++ {
		few.WriteString("p" + itoa(i) + "@example.org\n")
	}
	names.WriteString("Vorname;Nachname;Abteilung\n")
	noHeader.WriteString("Item;Qty;Price\n")
	for i := 0; i < 55; i++ {
		names.WriteString("A" + itoa(i%10) + ";B" + itoa(i/10) + ";Sales\n")
		noHeader.WriteString("Widget;" + itoa(i%10) + ";9.99\n")
	}
	runCases(t, Bulk, []caseT{
		{"emails", emails.String(), true, evEmailRows},
		{"few emails", few.String(), false, ""},
		{"names", names.String(), true, evNameRows},
		{"table without names", noHeader.String(), false, ""},
	})
}

func TestCustom(t *testing.T) {
	c := classifier(t, Config{Custom: []Custom{
		{Name: "project", Keywords: []string{"Bluebird"}, Min: 2},
		{Name: "contract", Patterns: []string{`\bC-\d{6}\b`}},
	}})
	r := body(t, c, "Project bluebird kickoff. BLUEBIRD budget. Contract C-123456.")
	if !r.Has("project") || !r.Has("contract") {
		t.Fatalf("custom categories not found: %+v", r.Findings)
	}
	r = body(t, c, "Bluebirds sing; one Bluebird. Contract C-1234567.")
	if r.Has("project") || r.Has("contract") {
		t.Fatalf("custom categories found below min or without a whole match: %+v", r.Findings)
	}
	for _, bad := range []Config{
		{Custom: []Custom{{Name: "x", Patterns: []string{`(?<=a)b`}}}},
		{Custom: []Custom{{Name: "", Keywords: []string{"a"}}}},
		{Custom: []Custom{{Name: "medical", Keywords: []string{"a"}}}},
		{Custom: []Custom{{Name: "x"}}},
		{Markings: []string{" "}},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted a bad config", bad)
		}
	}
	_, err := New(Config{Custom: []Custom{{Name: "x", Patterns: []string{`a(b`}}}})
	if err == nil || !strings.Contains(err.Error(), "not valid RE2") || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("bad pattern error is not clear: %v", err)
	}
}

func TestSentenceAndNames(t *testing.T) {
	r := Result{Findings: []Finding{
		{Category: Credentials, Evidence: map[string]int{evPassword: 1}},
		{Category: Medical, Evidence: map[string]int{evMedTerm: 6}},
	}}
	if got, want := r.Sentence(), "the message contains what looks like a password and a medical record"; got != want {
		t.Errorf("Sentence() = %q, want %q", got, want)
	}
	r.Findings = append(r.Findings, Finding{Category: Travel, Evidence: map[string]int{evFlight: 1}})
	if got, want := r.Sentence(), "the message contains what looks like a password, a medical record and a travel itinerary"; got != want {
		t.Errorf("Sentence() = %q, want %q", got, want)
	}
	if got := strings.Join(r.Names(), ","); got != "credentials,medical,travel" {
		t.Errorf("Names() = %s", got)
	}
	if got, want := Describe(r.Names()), "a password, key or token, a medical record and a travel itinerary"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got, want := Describe([]string{"project-bluebird"}), "content of the custom category project-bluebird"; got != want {
		t.Errorf("Describe(custom) = %q, want %q", got, want)
	}
	if (Result{}).Sentence() != "" {
		t.Error("empty result has a sentence")
	}
}
