package ec2

// findOwned returns the item of list (one account's rows) whose id is id,
// or notFound(id): the shape of every "get one of the caller's X" lookup.
func findOwned[T any](list []T, err error, id string, idOf func(T) string, notFound func(string) error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	for _, item := range list {
		if idOf(item) == id {
			return item, nil
		}
	}
	return zero, notFound(id)
}
