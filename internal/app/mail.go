package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ordergate/ordergate/internal/config"
	"github.com/ordergate/ordergate/internal/mailer"
	"github.com/ordergate/ordergate/internal/store"
)

// newMailer makes the SMTP mailer of the configuration; nil when mail is
// not configured.
func newMailer(cfg *config.Config, log *slog.Logger) (*mailer.Mailer, error) {
	if !cfg.Mail.Enabled() {
		return nil, nil
	}
	s := cfg.Mail.SMTP
	mc := mailer.Config{Host: s.Host, Port: s.Port, TLS: s.TLS, InsecurePlaintext: s.InsecurePlaintext, User: s.User,
		From: cfg.Mail.From, Logger: log}
	if ref := s.Password(); !ref.IsZero() {
		sec, err := ref.Value()
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		mc.Password = sec.Reveal()
	}
	if s.CAFile != "" {
		pool, err := certPool(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail: %w", err)
		}
		mc.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return mailer.New(mc)
}

// mailOutbound sends the e-mails the pipeline queued in the acks outbox
// (a mailer.Message as JSON) over SMTP.
type mailOutbound struct{ m *mailer.Mailer }

func (o mailOutbound) Send(ctx context.Context, _ string, body []byte) error {
	var msg mailer.Message
	if err := json.Unmarshal(body, &msg); err != nil {
		return fmt.Errorf("a queued e-mail is not a message: %w", err)
	}
	return o.m.Send(ctx, &msg)
}

// taskMailAttempts is how often a task's mail is tried before it is
// marked failed (the task stays in the UI either way).
const taskMailAttempts = 10

// runTaskMails mails each new sales-rep task to its rep, retrying with
// capped backoff, until ctx ends.
func runTaskMails(ctx context.Context, st *store.Store, m *mailer.Mailer, cfg func() *config.Config, log *slog.Logger) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		due, err := st.DueTaskMails(ctx, time.Now(), 50)
		if err != nil && ctx.Err() == nil {
			log.Warn("reading due task mails", "err", err)
		}
		for _, task := range due {
			err := sendTaskMail(ctx, st, m, cfg(), task)
			next := time.Time{}
			if err != nil && task.MailAttempts+1 < taskMailAttempts {
				next = time.Now().Add(min(time.Duration(1<<min(task.MailAttempts, 10))*time.Second, 10*time.Minute))
			}
			if err != nil {
				log.Warn("mailing a task to its sales rep", "task", task.ID, "attempt", task.MailAttempts+1, "err", err)
			}
			if werr := st.Write(ctx, func(tx *store.Tx) error { return tx.RecordTaskMail(ctx, task.ID, err, next) }); werr != nil && ctx.Err() == nil {
				log.Warn("recording a task mail", "task", task.ID, "err", werr)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func sendTaskMail(ctx context.Context, st *store.Store, m *mailer.Mailer, cfg *config.Config, task store.Task) error {
	d := mailer.TaskData{Company: cfg.Mail.Company, RepName: task.Assignee, OrderID: task.OrderID, Customer: task.CustomerID,
		Task: task.Text}
	if rec, err := st.GetOrder(ctx, task.OrderID); err == nil {
		d.PONumber = rec.PONumber
	}
	if c, err := st.GetCustomer(ctx, task.CustomerID); err == nil {
		d.Customer = c.Name + " (" + c.Number + ")"
	}
	if cfg.HTTP.PublicURL != "" {
		d.Link = cfg.HTTP.PublicURL + "/orders/" + task.OrderID
	}
	msg, err := mailer.SalesRepTask(task.Email, d)
	if err != nil {
		return err
	}
	return m.Send(ctx, msg)
}
