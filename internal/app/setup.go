package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"pacto/workflows"
)

// DefaultRetention is how long a namespace that Setup creates keeps a
// closed workflow's history: long enough to look into a quarter's closed
// activities in the Temporal UI. Pacto's own record of them is the read
// model and its audit log, which keep everything.
const DefaultRetention = 90 * 24 * time.Hour

// DefaultSetupWait bounds how long Setup waits for a namespace and its
// search attributes to become usable.
const DefaultSetupWait = time.Minute

// Setup says what SetupNamespace does.
type Setup struct {
	Namespace string
	// Create registers the namespace if it does not exist, with
	// Retention (DefaultRetention when zero); for a self-hosted cluster.
	Create    bool
	Retention time.Duration
	// Wait bounds the wait for the namespace and its search attributes to
	// be usable (DefaultSetupWait when zero).
	Wait time.Duration
}

// SetupResult says what SetupNamespace did.
type SetupResult struct {
	// Created: the namespace was registered; Added: search attributes
	// were added to it.
	Created, Added bool
	// Usable is how long the search attributes took to become usable.
	Usable time.Duration
}

// NoNamespaceError is returned by SetupNamespace for a namespace that
// does not exist when it was not asked to create it; it says how to.
type NoNamespaceError struct{ Namespace string }

func (e *NoNamespaceError) Error() string {
	return fmt.Sprintf("namespace %s does not exist: create it with `pacto setup --create-namespace` on a self-hosted cluster, or in Temporal Cloud's console", e.Namespace)
}

// SetupNamespace makes a Temporal namespace ready for Pacto: registers it
// if asked and missing, adds Pacto's search attributes, and returns only
// once a visibility query that uses them succeeds, so that what runs next
// can start activities at once.
func SetupNamespace(ctx context.Context, c client.Client, s Setup) (SetupResult, error) {
	var res SetupResult
	if s.Retention == 0 {
		s.Retention = DefaultRetention
	}
	if s.Wait == 0 {
		s.Wait = DefaultSetupWait
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.Wait)
	defer cancel()

	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.Namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound) && !s.Create:
		return res, &NoNamespaceError{Namespace: s.Namespace}
	case errors.As(err, &notFound):
		_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        s.Namespace,
			Description:                      "Pacto: cooperation activities between governments",
			WorkflowExecutionRetentionPeriod: durationpb.New(s.Retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return res, fmt.Errorf("register namespace %s: %w", s.Namespace, err)
		}
		res.Created = err == nil
	case err != nil:
		return res, fmt.Errorf("describe namespace %s: %w", s.Namespace, err)
	}

	// A namespace just registered is unknown to the frontend until its
	// next refresh: try again while it says so.
	for {
		res.Added, err = workflows.RegisterSearchAttributes(ctx, c, s.Namespace)
		if err == nil || !errors.As(err, &notFound) {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("namespace %s is still not usable after %s: %w", s.Namespace, s.Wait, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		return res, err
	}
	if err := workflows.WaitSearchAttributes(ctx, c, s.Namespace); err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("waited %s: %w; run `pacto setup` again, or give it longer with --wait", s.Wait, err)
		}
		return res, err
	}
	res.Usable = time.Since(began)
	return res, nil
}
