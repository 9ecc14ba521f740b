package style

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pushsim/pushsim/device"
	"github.com/pushsim/pushsim/device/sdkjose"
)

// Section is one titled part of an exchange's decoded view.
type Section struct {
	Title string
	Lines []string
}

// maxBodyLines bounds a body shown in the log, so one large list does not
// make the screen scroll for ever; the FullBody key shows the rest.
const maxBodyLines = 80

// DecodeExchange explains one exchange for an HTTP log: the request line,
// the credentials (the device JWT's header and claims, or the access
// token's JWE header), the form body with any signed AuthPayload decoded,
// and the response, its body cut after its first maxBodyLines lines with
// a line saying how many more there are.
func DecodeExchange(e device.LoggedExchange) []Section { return DecodeExchangeBody(e, maxBodyLines) }

// DecodeExchangeBody is DecodeExchange showing at most bodyLines lines of
// the response body, or all of them when bodyLines is 0: what a screen
// shows once the user asked for full bodies (KeyMap.FullBody).
func DecodeExchangeBody(e device.LoggedExchange, bodyLines int) []Section {
	var out []Section
	req := Section{Title: "Request", Lines: []string{e.Method + " " + RequestPath(e.URL)}}
	if ua := e.RequestHeader.Get("User-Agent"); ua != "" {
		req.Lines = append(req.Lines, "User-Agent: "+ua)
	}
	out = append(out, req)
	out = append(out, decodeAuthorization(e.RequestHeader.Get("Authorization"))...)
	if len(e.RequestBody) > 0 {
		out = append(out, decodeForm(e.RequestBody)...)
	}

	resp := Section{Title: "Response"}
	switch {
	case e.Err != nil:
		resp.Lines = append(resp.Lines, "no response: "+e.Err.Error())
	default:
		resp.Lines = append(resp.Lines, fmt.Sprintf("%d %s · %s", e.StatusCode, http.StatusText(e.StatusCode), e.Duration.Round(time.Millisecond)))
		for _, h := range []string{"Twilio-Verify-Signature-Fields", "Date"} {
			if v := e.ResponseHeader.Get(h); v != "" {
				resp.Lines = append(resp.Lines, h+": "+v)
			}
		}
		resp.Lines = append(resp.Lines, prettyBody(e.ResponseBody, bodyLines)...)
	}
	return append(out, resp)
}

// RequestPath is the URL without scheme and host: the part worth reading.
func RequestPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

// decodeAuthorization opens Basic credentials. After enrolment the password
// is a device JWT; on create-factor it is the access token, a JWE.
func decodeAuthorization(h string) []Section {
	if h == "" {
		return nil
	}
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return []Section{{Title: "Authorization", Lines: []string{strings.Fields(h + " ")[0] + " …"}}}
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return []Section{{Title: "Authorization", Lines: []string{"Basic (not base64)"}}}
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	switch strings.Count(pass, ".") {
	case 2:
		jwt, err := sdkjose.Decode(pass)
		if err != nil {
			break
		}
		return []Section{
			{Title: "Authorization", Lines: []string{"Basic " + user + ":<device JWT>"}},
			{Title: "Device JWT header", Lines: prettyJSON(jwt.Header)},
			{Title: "Device JWT claims", Lines: append(prettyJSON(jwt.Payload), claimTimes(jwt.Payload)...)},
		}
	case 4:
		head, err := base64.RawURLEncoding.DecodeString(strings.SplitN(pass, ".", 2)[0])
		if err != nil {
			break
		}
		return []Section{
			{Title: "Authorization", Lines: []string{"Basic " + user + ":<access token>"}},
			{Title: "Access token (JWE) header", Lines: prettyJSON(head)},
		}
	}
	return []Section{{Title: "Authorization", Lines: []string{"Basic " + user + ":…"}}}
}

// claimTimes reads the JWT's nbf and exp as times.
func claimTimes(payload []byte) []string {
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil
	}
	var out []string
	for _, k := range []string{"nbf", "exp"} {
		if v, ok := claims[k].(float64); ok {
			out = append(out, k+" = "+Stamp(time.Unix(int64(v), 0)))
		}
	}
	return out
}

// decodeForm lists form fields in the order they were sent (the order the
// SDK uses matters to servers that sign requests) and opens a JWS
// AuthPayload.
func decodeForm(body []byte) []Section {
	form := Section{Title: "Form"}
	var extra []Section
	for _, pair := range strings.Split(string(body), "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			key, val = k, v
		}
		if strings.Count(val, ".") == 2 {
			if jws, err := sdkjose.Decode(val); err == nil {
				// The signature is noise to a reader; the parts are below.
				form.Lines = append(form.Lines, key+" = <JWS, "+strconv.Itoa(len(val))+" bytes, decoded below>")
				extra = append(extra,
					Section{Title: key + " (JWS) header", Lines: prettyJSON(jws.Header)},
					Section{Title: key + " (JWS) payload", Lines: prettyJSON(jws.Payload)},
				)
				continue
			}
		}
		form.Lines = append(form.Lines, key+" = "+val)
	}
	return append([]Section{form}, extra...)
}

func prettyJSON(raw []byte) []string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return []string{string(raw)}
	}
	return strings.Split(buf.String(), "\n")
}

func prettyBody(body []byte, limit int) []string {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	lines := prettyJSON(body)
	if limit > 0 && len(lines) > limit {
		lines = append(lines[:limit], fmt.Sprintf("… %d more lines", len(lines)-limit))
	}
	return lines
}
