package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// searchAttributesQuery is a visibility query that names every one of
// Pacto's search attributes and matches nothing: Temporal answers it only
// once the namespace maps them all.
func searchAttributesQuery() string {
	return fmt.Sprintf("%s = '-' AND %s = '-' AND %s = '-' AND %s < '1970-01-02T00:00:00Z'",
		PendingPartiesKey.GetName(), StatusKey.GetName(), DialogueKey.GetName(), NextDueKey.GetName())
}

// SearchAttributesUsable asks namespace a visibility query that uses each
// of Pacto's search attributes; nil means Temporal knows them all there.
func SearchAttributesUsable(ctx context.Context, c client.Client, namespace string) error {
	_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: searchAttributesQuery()})
	if err != nil {
		return fmt.Errorf("query namespace %s with Pacto's search attributes: %w", namespace, err)
	}
	return nil
}

// WaitSearchAttributes waits until Pacto's search attributes are usable on
// namespace, or ctx ends. A frontend learns of attributes just added (and
// of a namespace just registered) only when it next refreshes its copy of
// the namespace, some seconds later; until then it refuses workflow starts
// that set them. It tries again while the answer is one of those (or
// Temporal is unreachable for a moment), and returns any other error at
// once; when ctx ends it returns the last error.
func WaitSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	const every, attemptTimeout = 250 * time.Millisecond, 5 * time.Second
	for {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := SearchAttributesUsable(actx, c, namespace)
		cancel()
		if err == nil {
			return nil
		}
		if !settling(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the search attributes are still not usable on namespace %s: %w", namespace, err)
		case <-time.After(every):
		}
	}
}

// settling reports whether err is what Temporal answers while it catches
// up with a namespace or its search attributes, or cannot be reached for
// a moment.
func settling(err error) bool {
	var (
		notFound    *serviceerror.NamespaceNotFound
		invalid     *serviceerror.InvalidArgument
		unavailable *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
	)
	return errors.As(err, &notFound) || errors.As(err, &invalid) || errors.As(err, &unavailable) ||
		errors.As(err, &deadline) || errors.Is(err, context.DeadlineExceeded)
}
