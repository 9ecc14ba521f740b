package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushsim/pushsim/server/store"
	"github.com/pushsim/pushsim/server/verify"
)

func (a *API) routes() {
	const (
		svc      = "/v2/Services/{ServiceSid}"
		entity   = svc + "/Entities/{Identity}"
		factor   = entity + "/Factors/{Sid}"
		chal     = entity + "/Challenges/{Sid}"
		webhooks = svc + "/Webhooks"
	)
	a.handle("POST /v2/Services", accountOnly, a.createService)
	a.handle("GET /v2/Services", accountOnly, a.listServices)
	a.handle("GET "+svc, accountOnly, a.fetchService)
	a.handle("POST "+svc, accountOnly, a.updateService)
	a.handle("DELETE "+svc, accountOnly, a.deleteService)

	a.handle("POST "+svc+"/Entities", accountOnly, a.createEntity)
	a.handle("GET "+svc+"/Entities", accountOnly, a.listEntities)
	a.handle("GET "+entity, accountOrDevice, a.fetchEntity)
	a.handle("DELETE "+entity, accountOnly, a.deleteEntity)

	a.handle("POST "+entity+"/Factors", accessToken, a.createFactor)
	a.handle("GET "+entity+"/Factors", accountOrDevice, a.listFactors)
	a.handle("GET "+factor, accountOrDevice, a.fetchFactor)
	a.handle("POST "+factor, accountOrDevice, a.updateFactor)
	a.handle("DELETE "+factor, accountOrDevice, a.deleteFactor)

	a.handle("POST "+entity+"/Challenges", accountOnly, a.createChallenge)
	a.handle("GET "+entity+"/Challenges", accountOrDevice, a.listChallenges)
	a.handle("GET "+chal, accountOrDevice, a.fetchChallenge)
	a.handle("POST "+chal, accountOrDevice, a.answerChallenge)
	a.handle("POST "+chal+"/Notifications", accountOnly, a.createNotification)

	a.handle("POST "+svc+"/AccessTokens", accountOnly, a.createAccessToken)
	a.handle("GET "+svc+"/AccessTokens/{Sid}", accountOnly, a.fetchAccessToken)

	a.handle("POST "+webhooks, accountOnly, a.createWebhook)
	a.handle("GET "+webhooks, accountOnly, a.listWebhooks)
	a.handle("GET "+webhooks+"/{Sid}", accountOnly, a.fetchWebhook)
	a.handle("POST "+webhooks+"/{Sid}", accountOnly, a.updateWebhook)
	a.handle("DELETE "+webhooks+"/{Sid}", accountOnly, a.deleteWebhook)

	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, verify.NotFound(r.URL.Path))
	})
}

func ok(v any) (int, any, error)      { return http.StatusOK, v, nil }
func created(v any) (int, any, error) { return http.StatusCreated, v, nil }
func noContent() (int, any, error)    { return http.StatusNoContent, nil, nil }
func fail(err error) (int, any, error) {
	return 0, nil, err
}

// list renders a page of records under key.
func list[T, J any](a *API, r *http.Request, key string, filters [][2]string, lr listRequest, l store.Listed[T], render func(T) J) (int, any, error) {
	items := make([]J, 0, len(l.Items))
	for _, it := range l.Items {
		items = append(items, render(it))
	}
	token := r.URL.Query().Get("PageToken")
	if token == "" {
		token = r.URL.Query().Get("pageToken")
	}
	return ok(map[string]any{key: items, "meta": pageMeta(a.url(r.URL.Path), key, filters, lr, l, token)})
}

// settings collects the Service parameters present in a form.
func settings(v url.Values) map[string]string {
	out := map[string]string{}
	for k := range v {
		if verify.IsServiceSetting(k) {
			out[k] = v.Get(k)
		}
	}
	return out
}

func (a *API) createService(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	s, err := a.engine.CreateService(ctx, v.Get("FriendlyName"), settings(v))
	if err != nil {
		return fail(err)
	}
	return created(a.service(s))
}

func (a *API) listServices(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	lr, err := parseList(v, false)
	if err != nil {
		return fail(err)
	}
	l, err := a.engine.ListServices(ctx, lr.page)
	if err != nil {
		return fail(err)
	}
	return list(a, r, "services", nil, lr, l, a.service)
}

func (a *API) fetchService(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	s, err := a.engine.GetService(ctx, r.PathValue("ServiceSid"))
	if err != nil {
		return fail(err)
	}
	return ok(a.service(s))
}

func (a *API) updateService(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	s, err := a.engine.UpdateService(ctx, r.PathValue("ServiceSid"), optional(v, "FriendlyName"), settings(v))
	if err != nil {
		return fail(err)
	}
	return ok(a.service(s))
}

func (a *API) deleteService(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	if err := a.engine.DeleteService(ctx, r.PathValue("ServiceSid")); err != nil {
		return fail(err)
	}
	return noContent()
}

func (a *API) createEntity(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	e, err := a.engine.CreateEntity(ctx, r.PathValue("ServiceSid"), v.Get("Identity"))
	if err != nil {
		return fail(err)
	}
	return created(a.entity(e))
}

func (a *API) listEntities(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	lr, err := parseList(v, false)
	if err != nil {
		return fail(err)
	}
	l, err := a.engine.ListEntities(ctx, r.PathValue("ServiceSid"), lr.page)
	if err != nil {
		return fail(err)
	}
	return list(a, r, "entities", nil, lr, l, a.entity)
}

func (a *API) fetchEntity(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	e, err := a.engine.GetEntity(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"))
	if err != nil {
		return fail(err)
	}
	return ok(a.entity(e))
}

func (a *API) deleteEntity(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	if err := a.engine.DeleteEntity(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity")); err != nil {
		return fail(err)
	}
	return noContent()
}

func (a *API) createFactor(ctx context.Context, r *http.Request, who caller, v url.Values) (int, any, error) {
	if who.account {
		// Push factors are enrolled by the phone with an access token; the
		// account has no key to bind.
		return fail(verify.ErrUnauthenticated)
	}
	f, err := a.engine.CreateFactor(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), verify.FactorInput{
		AccessToken:          who.token,
		FriendlyName:         v.Get("FriendlyName"),
		FactorType:           v.Get("FactorType"),
		BindingAlg:           v.Get("Binding.Alg"),
		BindingPublicKey:     v.Get("Binding.PublicKey"),
		AppID:                v.Get("Config.AppId"),
		NotificationPlatform: v.Get("Config.NotificationPlatform"),
		NotificationToken:    v.Get("Config.NotificationToken"),
		SdkVersion:           v.Get("Config.SdkVersion"),
		Metadata:             v.Get("Metadata"),
	})
	if err != nil {
		return fail(err)
	}
	return created(a.newFactor(f))
}

func (a *API) listFactors(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	lr, err := parseList(v, false)
	if err != nil {
		return fail(err)
	}
	l, err := a.engine.ListFactors(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), lr.page)
	if err != nil {
		return fail(err)
	}
	return list(a, r, "factors", nil, lr, l, a.factor)
}

func (a *API) fetchFactor(ctx context.Context, r *http.Request, who caller, _ url.Values) (int, any, error) {
	if err := ownFactor(who, r.PathValue("Sid")); err != nil {
		return fail(err)
	}
	f, err := a.engine.GetFactor(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"))
	if err != nil {
		return fail(err)
	}
	return ok(a.factor(f))
}

func (a *API) updateFactor(ctx context.Context, r *http.Request, who caller, v url.Values) (int, any, error) {
	if err := ownFactor(who, r.PathValue("Sid")); err != nil {
		return fail(err)
	}
	f, err := a.engine.UpdateFactor(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"), verify.FactorUpdate{
		AuthPayload:          optional(v, "AuthPayload"),
		FriendlyName:         optional(v, "FriendlyName"),
		NotificationPlatform: optional(v, "Config.NotificationPlatform"),
		NotificationToken:    optional(v, "Config.NotificationToken"),
		SdkVersion:           optional(v, "Config.SdkVersion"),
	})
	if err != nil {
		return fail(err)
	}
	return ok(a.factor(f))
}

func (a *API) deleteFactor(ctx context.Context, r *http.Request, who caller, _ url.Values) (int, any, error) {
	if err := ownFactor(who, r.PathValue("Sid")); err != nil {
		return fail(err)
	}
	if err := a.engine.DeleteFactor(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid")); err != nil {
		return fail(err)
	}
	return noContent()
}

func (a *API) createChallenge(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	c, err := a.engine.CreateChallenge(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), verify.ChallengeInput{
		FactorSid:      v.Get("FactorSid"),
		ExpirationDate: v.Get("ExpirationDate"),
		Message:        v.Get("Details.Message"),
		Fields:         v["Details.Fields"],
		HiddenDetails:  v.Get("HiddenDetails"),
	})
	if err != nil {
		return fail(err)
	}
	return created(a.challenge(c))
}

func (a *API) listChallenges(ctx context.Context, r *http.Request, who caller, v url.Values) (int, any, error) {
	order := strings.ToLower(v.Get("Order"))
	if order != "" && order != "asc" && order != "desc" {
		return fail(verify.InvalidParam("Order", "must be asc or desc"))
	}
	lr, err := parseList(v, order == "desc")
	if err != nil {
		return fail(err)
	}
	filter := verify.ChallengeFilter{FactorSid: v.Get("FactorSid"), Status: v.Get("Status")}
	if who.isDevice() {
		if filter.FactorSid == "" {
			filter.FactorSid = who.factor.Sid
		}
		if err := ownFactor(who, filter.FactorSid); err != nil {
			return fail(err)
		}
	}
	l, err := a.engine.ListChallenges(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), filter, lr.page)
	if err != nil {
		return fail(err)
	}
	filters := [][2]string{{"FactorSid", v.Get("FactorSid")}, {"Status", filter.Status}, {"Order", v.Get("Order")}}
	return list(a, r, "challenges", filters, lr, l, a.challenge)
}

func (a *API) fetchChallenge(ctx context.Context, r *http.Request, who caller, _ url.Values) (int, any, error) {
	c, err := a.engine.GetChallenge(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"))
	if err != nil {
		return fail(err)
	}
	if who.isDevice() && who.factor.Sid != c.FactorSid {
		return fail(verify.NotFound("/Challenges/" + c.Sid))
	}
	return ok(signatureFields{a.challenge(c)})
}

// signatureFields marks a challenge response that carries the
// Twilio-Verify-Signature-Fields header.
type signatureFields struct{ challengeJSON }

func (a *API) answerChallenge(ctx context.Context, r *http.Request, who caller, v url.Values) (int, any, error) {
	c, err := a.engine.AnswerChallenge(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"), verify.ChallengeAnswer{
		AuthPayload:  v.Get("AuthPayload"),
		Metadata:     v.Get("Metadata"),
		DeviceFactor: who.factor.Sid,
	})
	if err != nil {
		return fail(err)
	}
	return ok(a.challenge(c))
}

func (a *API) createNotification(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	n, err := a.engine.CreateNotification(ctx, r.PathValue("ServiceSid"), r.PathValue("Identity"), r.PathValue("Sid"),
		verify.NotificationInput{TTL: v.Get("Ttl")})
	if err != nil {
		return fail(err)
	}
	return created(a.notification(n))
}

func (a *API) createAccessToken(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	t, err := a.engine.CreateAccessToken(ctx, r.PathValue("ServiceSid"), verify.AccessTokenInput{
		Identity:           v.Get("Identity"),
		FactorType:         v.Get("FactorType"),
		FactorFriendlyName: v.Get("FactorFriendlyName"),
		TTL:                v.Get("Ttl"),
	})
	if err != nil {
		return fail(err)
	}
	return created(a.accessToken(t))
}

func (a *API) fetchAccessToken(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	t, err := a.engine.GetAccessToken(ctx, r.PathValue("ServiceSid"), r.PathValue("Sid"))
	if err != nil {
		return fail(err)
	}
	return ok(a.accessToken(t))
}

func webhookInput(v url.Values) verify.WebhookInput {
	return verify.WebhookInput{
		FriendlyName: optional(v, "FriendlyName"),
		EventTypes:   v["EventTypes"],
		WebhookURL:   optional(v, "WebhookUrl"),
		Status:       optional(v, "Status"),
		Version:      optional(v, "Version"),
	}
}

func (a *API) createWebhook(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	w, err := a.engine.CreateWebhook(ctx, r.PathValue("ServiceSid"), webhookInput(v))
	if err != nil {
		return fail(err)
	}
	return created(a.webhook(w))
}

func (a *API) listWebhooks(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	lr, err := parseList(v, false)
	if err != nil {
		return fail(err)
	}
	l, err := a.engine.ListWebhooks(ctx, r.PathValue("ServiceSid"), lr.page)
	if err != nil {
		return fail(err)
	}
	return list(a, r, "webhooks", nil, lr, l, a.webhook)
}

func (a *API) fetchWebhook(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	w, err := a.engine.GetWebhook(ctx, r.PathValue("ServiceSid"), r.PathValue("Sid"))
	if err != nil {
		return fail(err)
	}
	return ok(a.webhook(w))
}

func (a *API) updateWebhook(ctx context.Context, r *http.Request, _ caller, v url.Values) (int, any, error) {
	w, err := a.engine.UpdateWebhook(ctx, r.PathValue("ServiceSid"), r.PathValue("Sid"), webhookInput(v))
	if err != nil {
		return fail(err)
	}
	return ok(a.webhook(w))
}

func (a *API) deleteWebhook(ctx context.Context, r *http.Request, _ caller, _ url.Values) (int, any, error) {
	if err := a.engine.DeleteWebhook(ctx, r.PathValue("ServiceSid"), r.PathValue("Sid")); err != nil {
		return fail(err)
	}
	return noContent()
}
