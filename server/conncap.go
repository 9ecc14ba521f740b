package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// tooManyConns is what a connection over its address's cap reads before
// it is closed: Verify's error for too many requests, so that the client
// learns why rather than seeing the connection reset.
var tooManyConns = func() []byte {
	body, _ := json.Marshal(map[string]any{
		"code": 20429, "status": http.StatusTooManyRequests, "more_info": "https://www.twilio.com/docs/errors/20429",
		"message": "Too many connections from this address: close some, or start the server with a higher --conns-per-addr",
	})
	return fmt.Appendf(nil, "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

// refuseConn answers a connection over its address's cap with a 429.
func refuseConn(c net.Conn) {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(tooManyConns)
	c.Close()
}
