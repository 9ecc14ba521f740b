package backend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// params is a request's parameters as a Twilio Function's event sees
// them: the query string and the body (form or JSON) merged, the body
// winning. JSON strings, numbers and booleans become their text; JSON
// objects and arrays keep their JSON text, so "details" may arrive as a
// string holding JSON (the template's page) or as JSON itself.
type params map[string]string

// has reports whether name was sent at all: the template's
// detectMissingParams only counts a parameter missing when it is absent,
// so an empty value is passed on for Verify to judge.
func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// missing lists the names p lacks, in the order given.
func (p params) missing(names ...string) []string {
	var out []string
	for _, n := range names {
		if !p.has(n) {
			out = append(out, n)
		}
	}
	return out
}

// maxBody bounds what a backend request may carry.
const maxBody = 64 << 10

func readParams(w http.ResponseWriter, r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.EqualFold(mt, "application/json"):
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, bodyError(err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			return p, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, errors.New("the body must be a JSON object")
		}
		for k, v := range m {
			var s string
			switch {
			case bytes.Equal(bytes.TrimSpace(v), []byte("null")):
				delete(p, k) // before the string case, which would take null as ""
			case json.Unmarshal(v, &s) == nil:
				p[k] = s
			default:
				var compact bytes.Buffer
				if err := json.Compact(&compact, v); err != nil {
					return nil, fmt.Errorf("parameter %s is not valid JSON", k)
				}
				p[k] = compact.String()
			}
		}
	default:
		if err := r.ParseForm(); err != nil {
			return nil, bodyError(err)
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	}
	return p, nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("the body is larger than %d KiB", maxBody>>10)
	}
	return errors.New("the body must be form-encoded or a JSON object")
}

// The template's error bodies. Its own checks and most Verify failures
// answer {"error": {"message", "moreInfo"}}; challenge-status adds
// "success": false; access-token spreads the helper library's
// RestException, {"status", "message", "code", "moreInfo"}.

// missingInfo is the link every template function gives with a missing
// parameter.
const missingInfo = "https://www.twilio.com/docs/verify/api/challenge#create-a-challenge-resource"

type errorBody struct {
	Message  string `json:"message"`
	MoreInfo string `json:"moreInfo"`
}

func writeError(w http.ResponseWriter, status int, message, moreInfo string) {
	writeJSON(w, status, struct {
		Error errorBody `json:"error"`
	}{errorBody{message, moreInfo}})
}

func writeMissing(w http.ResponseWriter, names []string) {
	writeError(w, http.StatusBadRequest, "Missing parameter; please provide: '"+strings.Join(names, ", ")+"'.", missingInfo)
}

// writeVerifyError passes a Verify error on with Verify's status, as the
// template's catch blocks do.
func writeVerifyError(w http.ResponseWriter, e *APIError) {
	writeError(w, e.Status, e.Message, e.MoreInfo)
}

// writeRestException is access-token's error body: the helper library's
// exception spread into an object.
func writeRestException(w http.ResponseWriter, e *APIError) {
	writeJSON(w, e.Status, struct {
		Status   int    `json:"status"`
		Message  string `json:"message"`
		Code     int    `json:"code"`
		MoreInfo string `json:"moreInfo"`
	}{e.Status, e.Message, e.Code, e.MoreInfo})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":{"message":"could not encode the answer","moreInfo":""}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// asHelperLibrary turns one of Verify's JSON objects into what the Node
// helper library's instance serialises to, which is what the template's
// functions answer with: top-level keys in camelCase and in Verify's
// order, top-level dates as JavaScript Date JSON (milliseconds, Z), nested
// objects (details, hidden details, config, links) untouched.
func asHelperLibrary(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for first := true; dec.More(); first = false {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		if isDateKey(key) {
			value = jsDate(value)
		}
		if !first {
			out.WriteByte(',')
		}
		name, _ := json.Marshal(camelCase(key))
		out.Write(name)
		out.WriteByte(':')
		out.Write(value)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// asHelperLibraryList converts every object of a Verify list.
func asHelperLibraryList(items []json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(items))
	for _, item := range items {
		c, err := asHelperLibrary(item)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func isDateKey(key string) bool {
	return strings.HasPrefix(key, "date_") || key == "expiration_date"
}

// jsDate rewrites a Verify date ("2026-01-02T03:04:05Z") as JSON.stringify
// writes a Date ("2026-01-02T03:04:05.000Z"); null and anything else stay.
func jsDate(v json.RawMessage) json.RawMessage {
	var s string
	if json.Unmarshal(v, &s) != nil {
		return v
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return v
	}
	out, _ := json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000Z"))
	return out
}

func camelCase(key string) string {
	parts := strings.Split(key, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
