package content

import (
	"strings"
)

// Category medical.
//
// Evidence:
//   - "medical term": words of diagnosis and treatment (diagnosis, prognosis,
//     prescription, dosage, chemotherapy, biopsy, oncology, MRI, discharge
//     summary... in English, with a few French and German ones). They count
//     only together: at least medicalMinTerms occurrences of at least
//     medicalMinDistinct different terms in the message, so one "treatment"
//     or one "patient" in a business letter is not a medical record.
//   - "ICD-10 code": a code such as E11.9 or F32 within three lines of
//     "diagnosis", "ICD", "Dx" or "diagnostic"; alone, a code-like token
//     means nothing.
//
// Tuning: medicalMinTerms and medicalMinDistinct.
const (
	evMedTerm = "medical term"
	evICD     = "ICD-10 code"

	medicalMinTerms    = 5
	medicalMinDistinct = 3
)

var (
	medicalTerms = lazy(`(?i)\b(diagnos(?:is|ed|es|e|tic)|prognosis|prescription|prescribed|dosage|medication|chemotherapy|radiotherapy|radiation therapy|biopsy|oncolog(?:y|ist)|tumou?r|carcinoma|metasta(?:sis|ses|tic)|diabetes|hypertension|insulin|antidepressants?|psychiatric|psychiatrist|hiv|hepatitis|pathology|blood test|lab results|mri|ct scan|x-ray|surgery|surgical|discharge summary|clinical notes?|symptoms?|allerg(?:y|ies)|medical record|medical history|treatment plan|physician|patient|outpatient|inpatient|mg daily|twice daily|ordonnance|traitement|maladie|krankheit|befund|behandlung|arztbrief)\b`)
	icdWords     = lazy(`(?i)\b(?:diagnos\w*|icd(?:-?10)?|dx|diagnostic)\b`)
	icdCode      = lazy(`\b[A-TV-Z][0-9][0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b`)
)

// medicalState counts medical terms across the message.
type medicalState struct {
	n     int
	terms map[string]bool
}

func medical(s *scanner, l *lineText) {
	if l.has(hintMedical) {
		for _, m := range medicalTerms.FindAllString(l.lower(), -1) {
			s.med.n++
			if len(s.med.terms) < 64 {
				s.med.terms[strings.TrimRight(m, "s")] = true
			}
		}
	}
	ctx := keyword(l, hintICD, icdWords)
	codes := 0
	if l.digits > 0 && s.prt.icd.near(ctx) {
		codes = len(icdCode.FindAllStringIndex(l.raw, -1))
	}
	s.t.add(Medical, evICD, s.prt.icd.line(ctx, codes))
}

func (m *medicalState) end(t tally) {
	if m.n >= medicalMinTerms && len(m.terms) >= medicalMinDistinct {
		t.add(Medical, evMedTerm, m.n)
	}
}
