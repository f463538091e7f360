package policyd

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// TestFailingHandoverDefersWithPostfix: with a real Postfix and a PostgreSQL quarantine
// whose hand-over table is gone (renamed away by another connection: every write fails),
// the message to hold gets 451 4.3.0 at the end of the data and the client keeps it; once
// the table is back, the same message is accepted with FILTER and its hand-over is there.
func TestFailingHandoverDefersWithPostfix(t *testing.T) {
	testenv.RequirePostfix(t)
	ctx := t.Context()
	dsn := testenv.StartPostgres(t)
	st, err := quarantine.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pf, _ := policyPostfix(t, &Server{Filter: testFilter, Handovers: st})
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `ALTER TABLE handovers RENAME TO handovers_gone`); err != nil {
		t.Fatal(err)
	}
	res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"bob@army.ml"}, message("no hand-over"))
	if err != nil || res.Data.Code != 451 || res.Data.Enhanced != "4.3.0" || !strings.Contains(res.Data.Text, "quarantine") {
		t.Fatalf("with no hand-over possible: %+v %v", res, err)
	}
	if _, err := admin.Exec(ctx, `ALTER TABLE handovers_gone RENAME TO handovers`); err != nil {
		t.Fatal(err)
	}
	res, err = testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"bob@army.ml"}, message("no hand-over"))
	if err != nil || !res.Delivered() || res.QueueID() == "" {
		t.Fatalf("with the table back: %+v %v", res, err)
	}
	h, err := st.GetHandover(ctx, res.QueueID())
	if err != nil || len(h.Recipients) != 1 || h.Recipients[0].Verdict != verdict.Hold {
		t.Fatalf("hand-over %+v, %v", h, err)
	}
	if err := pf.WaitLog(ctx, res.QueueID()+": filter: END-OF-MESSAGE"); err != nil {
		t.Error(err)
	}
}
