package testenv

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// CutServer speaks just enough SMTP to take a message and closes the connection when it
// sees the end of the data (atEnd) or when the data begins (not atEnd), without
// a reply either way.
func CutServer(t testing.TB, atEnd bool) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				r := bufio.NewReader(c)
				c.Write([]byte("220 cut ESMTP\r\n"))
				data := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					switch {
					case data && line == ".\r\n":
						return // the end of the data: no reply
					case data:
					case strings.HasPrefix(strings.ToUpper(line), "EHLO"):
						c.Write([]byte("250-cut\r\n250 8BITMIME\r\n"))
					case strings.HasPrefix(strings.ToUpper(line), "DATA"):
						if !atEnd {
							return
						}
						c.Write([]byte("354 go on\r\n"))
						data = true
					default:
						c.Write([]byte("250 ok\r\n"))
					}
				}
			}(c)
		}
	}()
	return l.Addr().String()
}
