package uring

import "fmt"

// RegisterEventFd has the kernel signal the eventfd fd whenever it posts a
// completion, so that another loop (epoll, a goroutine) can learn that the
// ring has work without waiting on it.
func (r *Ring) RegisterEventFd(fd int) error {
	if err := r.registerFd(registerEventFd, int32(fd)); err != nil {
		return fmt.Errorf("io_uring register eventfd %d: %w", fd, err)
	}
	return nil
}

// UnregisterEventFd undoes RegisterEventFd.
func (r *Ring) UnregisterEventFd() error {
	if err := r.registerFd(unregisterEventFd, -1); err != nil {
		return fmt.Errorf("io_uring unregister eventfd: %w", err)
	}
	return nil
}
