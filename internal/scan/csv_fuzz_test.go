package scan

import "testing"

func FuzzM365Reader(f *testing.F) {
	fuzzReader(f, M365Format, "m365-messagetrace.csv", "m365-reordered.csv", "m365-historical.csv")
}

func FuzzExchangeReader(f *testing.F) {
	fuzzReader(f, ExchangeFormat, "exchange-tracking.log", "exchange-export.csv")
}

func FuzzWorkspaceReader(f *testing.F) { fuzzReader(f, WorkspaceFormat, "workspace-els.csv") }
