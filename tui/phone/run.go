package phone

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/pushsim/pushsim/device"
)

// Model is one phone as a whole program: it fills the terminal, turns the
// mouse on and gives the phone the window's size. It is what `pushsim
// device` runs, and what an SSH session runs for its own phone.
type Model struct {
	phone *Phone
}

// NewModel wraps a phone as a tea.Model.
func NewModel(p *Phone) *Model { return &Model{phone: p} }

// Phone is the phone inside.
func (m *Model) Phone() *Phone { return m.phone }

func (m *Model) Init() tea.Cmd { return m.phone.Init() }

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if size, ok := msg.(tea.WindowSizeMsg); ok {
		m.phone.SetSize(size.Width, size.Height)
		return m, nil
	}
	var cmd tea.Cmd
	m.phone, cmd = m.phone.Update(msg)
	return m, cmd
}

func (m *Model) View() tea.View {
	v := tea.NewView(m.phone.View())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "pushsim phone"
	return v
}

// Run runs dev's phone full-screen until the user quits or ctx ends, then
// stops the app it launched. Program options are passed through (an SSH
// session gives its own input, output and environment).
func Run(ctx context.Context, dev *device.Device, o Options, opts ...tea.ProgramOption) error {
	o.Context = ctx
	p, err := New(dev, o)
	if err != nil {
		return err
	}
	defer p.Close()
	prog := tea.NewProgram(NewModel(p), append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)...)
	_, err = prog.Run()
	if ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil // interrupted from outside, e.g. SIGTERM: a clean stop
	}
	return err
}
