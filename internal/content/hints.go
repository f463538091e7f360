package content

import "github.com/rcptguard/rcptguard/internal/confusables"

// Keyword hints: before a keyword expression runs on a line, one pass over
// the line's words says which contexts may be there. A word is looked up by
// its first hintKey bytes (lower case); the expression then decides.
const hintKey = 4

type hint uint32

const (
	hintPassword hint = 1 << iota
	hintDOB
	hintPassport
	hintSSN
	hintMedical
	hintICD
	hintBooking
	hintHotel
	hintName // a column of names or addresses (bulk)
)

var hintTable = map[string]hint{}

func addHints(h hint, words ...string) {
	for _, w := range words {
		if len(w) > hintKey {
			w = w[:hintKey]
		}
		hintTable[w] |= h
		if confusables.IsASCII(w) {
			asciiHints.put(packKey(w), h)
		}
	}
}

func init() {
	addHints(hintPassword, "password", "passwort", "passwd", "pwd", "passcode", "pass", "passphrase", "pin", "pincode",
		"code", "mot", "mdp", "kennwort", "contraseña", "contrasena", "clave", "wachtwoord", "senha", "parola",
		"db_password", "user_password")
	addHints(hintDOB, "date", "dob", "birth", "birthdate", "born", "née", "né", "naissance", "geboren", "geburtsdatum",
		"fecha", "geboortedatum", "nacido", "nacida", "data")
	addHints(hintPassport, "passport", "passeport", "reisepass", "pasaporte", "paspoort", "passaporto")
	addHints(hintSSN, "ssn", "social", "soc")
	addHints(hintMedical, "diagnosis", "prognosis", "prescription", "prescribed", "dosage", "medication", "chemotherapy",
		"radiotherapy", "radiation", "biopsy", "oncology", "tumor", "carcinoma", "metastasis", "diabetes", "hypertension",
		"insulin", "antidepressant", "psychiatric", "hiv", "hepatitis", "pathology", "blood", "lab", "mri", "ct", "ray",
		"surgery", "surgical", "discharge", "clinical", "symptoms", "allergy", "allergies", "medical", "treatment",
		"physician", "patient", "outpatient", "inpatient", "mg", "twice", "ordonnance", "traitement", "maladie",
		"krankheit", "befund", "behandlung", "arztbrief")
	addHints(hintICD, "diagnosis", "diagnostic", "icd", "dx")
	addHints(hintBooking, "booking", "pnr", "record", "reservation", "confirmation", "buchungsnummer", "buchungscode",
		"localizador", "boekingsnummer", "código", "référence")
	addHints(hintHotel, "hotel", "hôtel", "check")
	// The words of bulk's nameColumns (a field starts with one), and "mail" of "e-mail".
	addHints(hintName, "full", "first", "firstname", "last", "lastname", "given", "givenname", "family", "familyname",
		"surname", "name", "nom", "prénom", "prenom", "vorname", "nachname", "nombre", "apellido", "apellidos", "naam",
		"achternaam", "voornaam", "email", "mail")
}

// lineHints returns the hints of a lower-cased line.
func lineHints(lower string) hint {
	var h hint
	i := 0
	for i < len(lower) {
		for i < len(lower) && !hintByte(lower[i]) {
			i++
		}
		j := i
		for j < len(lower) && hintByte(lower[j]) {
			j++
		}
		if j > i {
			k := j
			if k-i > hintKey {
				k = i + hintKey
			}
			h |= hintTable[lower[i:k]]
		}
		i = j
	}
	return h
}

func hintByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 0x80 || b == '_' || b >= '0' && b <= '9'
}
