package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/patchbay/patchbay/client"
)

type syncsCmd struct {
	List      syncsListCmd      `cmd:"" default:"withargs" help:"List sync runs, newest first."`
	Get       syncsGetCmd       `cmd:"" help:"Show a sync run with its items and operation log."`
	Start     syncsStartCmd     `cmd:"" help:"Record a sync run the host platform is starting."`
	Complete  syncsCompleteCmd  `cmd:"" help:"Complete a sync run."`
	Fail      syncsFailCmd      `cmd:"" help:"Fail a sync run with an error."`
	Pull      syncsPullCmd      `cmd:"" help:"Pull an entity type now through the connector's list endpoint."`
	Schedule  syncsScheduleCmd  `cmd:"" help:"Set a connection's sync schedule for an entity type."`
	Schedules syncsSchedulesCmd `cmd:"" help:"List a connection's sync schedules."`
	Failed    syncsFailedCmd    `cmd:"" help:"Failed sync runs of the last days."`
}

type syncsListCmd struct {
	Connection string        `help:"Only this connection's runs."`
	Status     string        `enum:"pending,running,completed,failed," default:"" help:"Only runs in this status."`
	Entity     string        `help:"Only runs of this entity type."`
	Since      time.Duration `help:"Only runs created within this long, e.g. 24h."`
	Limit      int           `default:"50" help:"Rows to show."`
}

func (c *syncsListCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	q := client.SyncsQuery{ConnectionID: c.Connection, Status: c.Status, EntityType: c.Entity,
		ListOptions: client.ListOptions{Limit: c.Limit}}
	if c.Since > 0 {
		q.From = time.Now().Add(-c.Since)
	}
	page, err := cl.ListSyncs(ctx, q)
	if err != nil {
		return err
	}
	return g.print(page.Data, func(w *tabwriter.Writer) { printRuns(w, page.Data) })
}

func printRuns(w *tabwriter.Writer, runs []client.SyncRun) {
	fmt.Fprintln(w, "ID\tCONNECTION\tENTITY\tDIRECTION\tTRIGGER\tSTATUS\tPROCESSED\tFAILED\tCURSOR\tCREATED\tERROR")
	for _, r := range runs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.ConnectionID, r.EntityType, r.Direction,
			r.Trigger, r.Status, r.Processed, r.Failed, r.CursorEnd, r.CreatedAt.Format(time.RFC3339), r.Error)
	}
}

type syncsGetCmd struct {
	ID string `arg:"" help:"Sync run id."`
}

func (c *syncsGetCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	run, err := cl.GetSync(ctx, c.ID)
	if err != nil {
		return err
	}
	items, err := cl.ListSyncItems(ctx, c.ID, "", 0, 200)
	if err != nil {
		return err
	}
	ops, err := cl.ListSyncOps(ctx, c.ID, client.ListOptions{Limit: 200})
	if err != nil {
		return err
	}
	out := struct {
		Run   *client.SyncRun   `json:"run"`
		Items []client.SyncItem `json:"items"`
		Log   []client.SyncOp   `json:"log"`
	}{run, items.Data, ops.Data}
	return g.print(out, func(w *tabwriter.Writer) {
		printRuns(w, []client.SyncRun{*run})
		fmt.Fprintln(w, "\nSEQ\tEXTERNAL ID\tSTATUS\tCURSOR\tERROR")
		for _, it := range items.Data {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", it.Seq, it.ExternalID, it.Status, it.Cursor, it.Error)
		}
		fmt.Fprintln(w, "\nLOG ID\tPARENT\tLEVEL\tMESSAGE")
		for _, o := range ops.Data {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.ID, o.ParentID, o.Level, o.Message)
		}
	})
}

type syncsStartCmd struct {
	Connection string `arg:"" help:"Connection id."`
	Entity     string `arg:"" help:"Entity type, e.g. contacts."`
	Direction  string `enum:"inbound,outbound" default:"inbound" help:"inbound (vendor → platform) or outbound."`
}

func (c *syncsStartCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	run, err := cl.StartSync(ctx, client.SyncRunRequest{ConnectionID: c.Connection, EntityType: c.Entity, Direction: c.Direction})
	if err != nil {
		return err
	}
	return g.print(run, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Started sync run %s, from cursor %q.\n", run.ID, run.CursorStart)
	})
}

type syncsCompleteCmd struct {
	ID string `arg:"" help:"Sync run id."`
}

func (c *syncsCompleteCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	run, err := cl.CompleteSync(ctx, c.ID, client.SyncFinishRequest{})
	return finishSync(g, run, err)
}

type syncsFailCmd struct {
	ID    string `arg:"" help:"Sync run id."`
	Error string `required:"" help:"Why the run failed."`
}

func (c *syncsFailCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	run, err := cl.FailSync(ctx, c.ID, client.SyncFinishRequest{Error: c.Error})
	return finishSync(g, run, err)
}

// finishSync prints the outcome of completing or failing a run.
func finishSync(g *Globals, run *client.SyncRun, err error) error {
	if err != nil {
		return err
	}
	return g.print(run, func(w *tabwriter.Writer) {
		fmt.Fprintf(w, "Sync run %s is %s; cursor %q.\n", run.ID, run.Status, run.CursorEnd)
	})
}

type syncsPullCmd struct {
	Connection string `arg:"" help:"Connection id."`
	Entity     string `arg:"" help:"Entity type the connector declares a list endpoint for."`
}

func (c *syncsPullCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	run, err := cl.PullSync(ctx, c.Connection, c.Entity)
	if err != nil {
		return err
	}
	return g.print(run, func(w *tabwriter.Writer) { printRuns(w, []client.SyncRun{*run}) })
}

type syncsScheduleCmd struct {
	Connection string        `arg:"" help:"Connection id."`
	Entity     string        `arg:"" help:"Entity type."`
	Every      time.Duration `required:"" help:"Interval, e.g. 1h."`
	Direction  string        `enum:"inbound,outbound" default:"inbound" help:"inbound or outbound."`
	Disable    bool          `help:"Disable the schedule instead."`
}

func (c *syncsScheduleCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	sch, err := cl.PutSyncSchedule(ctx, c.Connection, client.SyncScheduleRequest{EntityType: c.Entity,
		Direction: c.Direction, Interval: c.Every.String(), Enabled: !c.Disable})
	if err != nil {
		return err
	}
	return g.print(sch, func(w *tabwriter.Writer) { printSchedules(w, []client.SyncSchedule{*sch}) })
}

func printSchedules(w *tabwriter.Writer, list []client.SyncSchedule) {
	fmt.Fprintln(w, "ENTITY\tDIRECTION\tINTERVAL\tENABLED\tHEALTH\tFAILURES\tNEXT RUN")
	for _, s := range list {
		next := "-"
		if s.NextRunAt != nil {
			next = s.NextRunAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%t\t%s\t%d\t%s\n", s.EntityType, s.Direction, s.Interval, s.Enabled, s.Health,
			s.ConsecutiveFailures, next)
	}
}

type syncsSchedulesCmd struct {
	Connection string `arg:"" help:"Connection id."`
}

func (c *syncsSchedulesCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	list, err := cl.ListSyncSchedules(ctx, c.Connection)
	if err != nil {
		return err
	}
	return g.print(list.Data, func(w *tabwriter.Writer) { printSchedules(w, list.Data) })
}

type syncsFailedCmd struct {
	Days int `default:"7" help:"How many days back."`
}

func (c *syncsFailedCmd) Run(ctx context.Context, g *Globals) error {
	cl, err := g.client()
	if err != nil {
		return err
	}
	list, err := cl.FailedSyncs(ctx, c.Days)
	if err != nil {
		return err
	}
	return g.print(list.Data, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "CONNECTION\tCONNECTOR\tENTITY\tDIRECTION\tSTARTED\tERROR")
		for _, f := range list.Data {
			started := f.CreatedAt
			if f.StartedAt != nil {
				started = *f.StartedAt
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ConnectionName, f.Connector, f.EntityType, f.Direction,
				started.Format(time.RFC3339), f.Error)
		}
	})
}
