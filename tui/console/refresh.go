package console

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device/verifyclient"
)

// refresh reloads the live lists, one reload at a time: asking while one
// is in flight runs another when it lands, so nothing is missed.
func (c *Console) refresh() tea.Cmd {
	if c.refreshing {
		c.refreshAgain = true
		return nil
	}
	c.refreshing = true
	client, user, parent := c.client, c.user, c.com.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		var msg RefreshedMsg
		var errs [3]error
		msg.Factors, errs[0] = client.ListFactors(ctx, user, true)
		msg.Challenges, errs[1] = client.ListChallenges(ctx, user)
		msg.Events, errs[2] = client.WebhookEvents(ctx, true)
		msg.Err = errors.Join(errs[:]...)
		return msg
	}
}

// refreshed stores the lists and reports challenges the backend has
// withdrawn since the last look.
func (c *Console) refreshed(msg RefreshedMsg) tea.Cmd {
	c.refreshing = false
	var again tea.Cmd
	if c.refreshAgain {
		c.refreshAgain = false
		again = c.refresh()
	}
	c.offline = msg.Err
	if msg.Err != nil {
		return again
	}
	c.factors, c.challenges, c.events, c.loaded = shownFactors(msg.Factors), shownChallenges(msg.Challenges), shownEvents(msg.Events), true
	c.follow()
	c.noteSettled()
	var withdrawn []string
	for _, ch := range c.challenges {
		if ch.Status == verifyclient.ChallengeExpired && ch.RespondedReason == respondedNotNeeded && !c.withdrawn[ch.Sid] {
			c.withdrawn[ch.Sid] = true
			withdrawn = append(withdrawn, ch.Sid)
		}
	}
	if len(withdrawn) > 0 {
		return tea.Batch(again, cmdOf(WithdrawnMsg{ChallengeSids: withdrawn}))
	}
	return again
}

// loadHash asks the sample backend what it sends Verify for the user.
func (c *Console) loadHash() tea.Cmd {
	client, user, parent := c.client, c.user, c.com.Context
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, requestTimeout)
		defer cancel()
		hashed, err := client.HashIdentity(ctx, user)
		return HashedMsg{Hashed: hashed, Err: err}
	}
}
