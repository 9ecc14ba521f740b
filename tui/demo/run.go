package demo

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Run runs the demo full-screen until the user quits or ctx ends. Program
// options are passed through, as for phone.Run.
func Run(ctx context.Context, o Options, opts ...tea.ProgramOption) error {
	o.Context = ctx
	d, err := New(o)
	if err != nil {
		return err
	}
	prog := tea.NewProgram(d, append(append([]tea.ProgramOption{tea.WithContext(ctx)}, d.programOptions()...), opts...)...)
	_, err = prog.Run()
	d.Close()
	if o.DeleteFactorsOnExit {
		err = errors.Join(err, d.deleteFactors())
	}
	if ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil // interrupted from outside, e.g. SIGTERM: a clean stop
	}
	return err
}

// deleteFactors removes the phones' factors from the server, as deleting
// each factor in the app would.
func (d *Model) deleteFactors() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, p := range d.phones {
		dev := p.Device()
		factors, err := dev.GetAllFactors()
		errs = append(errs, err)
		for _, f := range factors {
			errs = append(errs, dev.DeleteFactor(ctx, f.Sid))
		}
	}
	return errors.Join(errs...)
}
