package tui

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

	"github.com/pushsim/pushsim/device/sdkjose"
)

// section is one titled part of an exchange's decoded view.
type section struct {
	title string
	lines []string
}

// maxBodyLines bounds a body shown in the log, so one large list does not
// make the screen scroll for ever.
const maxBodyLines = 80

// decodeExchange explains one exchange for the HTTP log: the request line,
// the credentials (the device JWT's header and claims, or the access
// token's JWE header), the form body with any signed AuthPayload decoded,
// and the response.
func decodeExchange(e LoggedExchange) []section {
	var out []section
	req := section{title: "Request", lines: []string{e.Method + " " + requestPath(e.URL)}}
	if ua := e.RequestHeader.Get("User-Agent"); ua != "" {
		req.lines = append(req.lines, "User-Agent: "+ua)
	}
	out = append(out, req)
	out = append(out, decodeAuthorization(e.RequestHeader.Get("Authorization"))...)
	if len(e.RequestBody) > 0 {
		out = append(out, decodeForm(e.RequestBody)...)
	}

	resp := section{title: "Response"}
	switch {
	case e.Err != nil:
		resp.lines = append(resp.lines, "no response: "+e.Err.Error())
	default:
		resp.lines = append(resp.lines, fmt.Sprintf("%d %s · %s", e.StatusCode, http.StatusText(e.StatusCode), e.Duration.Round(time.Millisecond)))
		for _, h := range []string{"Twilio-Verify-Signature-Fields", "Date"} {
			if v := e.ResponseHeader.Get(h); v != "" {
				resp.lines = append(resp.lines, h+": "+v)
			}
		}
		resp.lines = append(resp.lines, prettyBody(e.ResponseBody)...)
	}
	return append(out, resp)
}

// requestPath is the URL without scheme and host: the part worth reading.
func requestPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.RequestURI()
}

// decodeAuthorization opens Basic credentials. After enrolment the password
// is a device JWT; on create-factor it is the access token, a JWE.
func decodeAuthorization(h string) []section {
	if h == "" {
		return nil
	}
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return []section{{title: "Authorization", lines: []string{strings.Fields(h + " ")[0] + " …"}}}
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return []section{{title: "Authorization", lines: []string{"Basic (not base64)"}}}
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	switch strings.Count(pass, ".") {
	case 2:
		jwt, err := sdkjose.Decode(pass)
		if err != nil {
			break
		}
		return []section{
			{title: "Authorization", lines: []string{"Basic " + user + ":<device JWT>"}},
			{title: "Device JWT header", lines: prettyJSON(jwt.Header)},
			{title: "Device JWT claims", lines: append(prettyJSON(jwt.Payload), claimTimes(jwt.Payload)...)},
		}
	case 4:
		head, err := base64.RawURLEncoding.DecodeString(strings.SplitN(pass, ".", 2)[0])
		if err != nil {
			break
		}
		return []section{
			{title: "Authorization", lines: []string{"Basic " + user + ":<access token>"}},
			{title: "Access token (JWE) header", lines: prettyJSON(head)},
		}
	}
	return []section{{title: "Authorization", lines: []string{"Basic " + user + ":…"}}}
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
			out = append(out, k+" = "+stamp(time.Unix(int64(v), 0)))
		}
	}
	return out
}

// decodeForm lists form fields in the order they were sent (the order the
// SDK uses matters to servers that sign requests) and opens a JWS
// AuthPayload.
func decodeForm(body []byte) []section {
	form := section{title: "Form"}
	var extra []section
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
				form.lines = append(form.lines, key+" = <JWS, "+strconv.Itoa(len(val))+" bytes, decoded below>")
				extra = append(extra,
					section{title: key + " (JWS) header", lines: prettyJSON(jws.Header)},
					section{title: key + " (JWS) payload", lines: prettyJSON(jws.Payload)},
				)
				continue
			}
		}
		form.lines = append(form.lines, key+" = "+val)
	}
	return append([]section{form}, extra...)
}

func prettyJSON(raw []byte) []string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return []string{string(raw)}
	}
	return strings.Split(buf.String(), "\n")
}

func prettyBody(body []byte) []string {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	lines := prettyJSON(body)
	if len(lines) > maxBodyLines {
		lines = append(lines[:maxBodyLines], fmt.Sprintf("… %d more lines", len(lines)-maxBodyLines))
	}
	return lines
}
