package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pushsim/pushsim/device/sdkjose"
	"github.com/pushsim/pushsim/server/store"
)

// A forged access token is refused without waiting for the store's one
// writer: while another write holds it, the refusal still comes.
func TestForgedAccessTokenDoesNotWaitForTheWriter(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := New(ctx, Config{Store: st, AccountSid: answerAccount})
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- e.write(ctx, func(store.Tx, *Queued) error { close(started); <-release; return nil })
	}()
	<-started
	defer func() { close(release); <-held }()

	pub, err := sdkjose.EncodePublicKey(&fixedKey(t, "forged-token").PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := testSealer.seal(testTokenClaims[0]) // sealed under another key than e's
	if err != nil {
		t.Fatal(err)
	}
	refused := make(chan error, 1)
	go func() {
		_, err := e.CreateFactor(ctx, "VA"+strings.Repeat("3", 32), "alice-0001", FactorInput{
			AccessToken: forged, FriendlyName: "Pixel 7", FactorType: "push", BindingAlg: "ES256", BindingPublicKey: pub,
			AppID: "com.twilio.verify.sample", NotificationPlatform: PlatformNone, SdkVersion: "0.9.0",
		})
		refused <- err
	}()
	select {
	case err := <-refused:
		if !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("forged token: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the refusal of a forged token waits for the writer")
	}
}
