package milter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"
	"github.com/rcptguard/rcptguard/internal/held"
)

// BenchmarkMilter measures the milter alone over loopback, with the library's MTA-side
// client: one message (MAIL, two RCPT, three header fields, a short body, end of message)
// per iteration, on connections kept open as an MTA keeps them for an SMTP session.
func BenchmarkMilter(b *testing.B) {
	addr := start(b, &Server{Guard: current(testGuard(b, holdPolicy()))})
	for _, bc := range []struct {
		name  string
		rcpts []string
		want  gomilter.ActionType
	}{
		{"allow", []string{"bob@army.mil", "carol@gmail.com"}, gomilter.ActionAccept},
		{"hold", []string{"bob@army.mil", "carol@army.ml"}, gomilter.ActionRejectWithCode},
	} {
		b.Run(bc.name+"/serial", func(b *testing.B) {
			sess, err := benchSession(addr)
			if err != nil {
				b.Fatal(err)
			}
			defer sess.Close()
			for b.Loop() {
				if err := benchMessage(sess, bc.rcpts, bc.want); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				sess, err := benchSession(addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer sess.Close()
				for pb.Next() {
					if err := benchMessage(sess, bc.rcpts, bc.want); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func benchSession(addr string) (*gomilter.ClientSession, error) {
	macros := gomilter.NewMacroBag()
	macros.Set(gomilter.MacroMTAVersion, "Postfix 3.7.11")
	macros.Set(gomilter.MacroRcptMailer, "smtp")
	macros.Set(gomilter.MacroQueueId, "4XyZ1234AB")
	sess, err := gomilter.NewClient("tcp", addr, gomilter.WithAction(gomilter.AllClientSupportedActionMasks)).Session(macros)
	if err != nil {
		return nil, err
	}
	if _, err := sess.Conn("client.example", gomilter.FamilyInet, 40123, "192.0.2.7"); err != nil {
		return nil, err
	}
	if _, err := sess.Helo("client.example"); err != nil {
		return nil, err
	}
	return sess, nil
}

func benchMessage(sess *gomilter.ClientSession, rcpts []string, want gomilter.ActionType) error {
	if act, err := sess.Mail("alice@contoso.com", ""); err != nil || act.StopProcessing() {
		return fmt.Errorf("mail: %v %v", act, err)
	}
	for _, r := range rcpts {
		if act, err := sess.Rcpt(r, ""); err != nil || act.StopProcessing() {
			return fmt.Errorf("rcpt: %v %v", act, err)
		}
	}
	if _, err := sess.DataStart(); err != nil {
		return err
	}
	for _, h := range [][2]string{{"From", "alice@contoso.com"}, {"To", "bob@army.mil"}, {"Subject", "Benchmark"}} {
		if _, err := sess.HeaderField(h[0], h[1], nil); err != nil {
			return err
		}
	}
	if _, err := sess.HeaderEnd(); err != nil {
		return err
	}
	_, act, err := sess.BodyReadFrom(strings.NewReader("Hello.\r\n"))
	if err != nil {
		return err
	}
	if act.Type != want {
		return errors.New("end of message: " + act.String())
	}
	if act.Type != gomilter.ActionAccept {
		return sess.Abort(nil) // as Postfix does after a refusal or a discard
	}
	return nil
}

// BenchmarkMilterWithHolder is BenchmarkMilter with a Holder that keeps nothing: the
// cost of collecting the content of a message to hold, and of skipping the body of the
// others.
func BenchmarkMilterWithHolder(b *testing.B) {
	h := holderFunc(func(_ context.Context, sub held.Submission) (string, error) {
		_ = sub.Content
		return "id", nil
	})
	addr := start(b, &Server{Guard: current(testGuard(b, holdPolicy())), Holder: h})
	for _, bc := range []struct {
		name  string
		rcpts []string
		want  gomilter.ActionType
	}{
		{"allow", []string{"bob@army.mil", "carol@gmail.com"}, gomilter.ActionAccept},
		{"hold", []string{"bob@army.mil", "carol@army.ml"}, gomilter.ActionDiscard},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sess, err := benchSession(addr)
			if err != nil {
				b.Fatal(err)
			}
			defer sess.Close()
			for b.Loop() {
				if err := benchMessage(sess, bc.rcpts, bc.want); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
