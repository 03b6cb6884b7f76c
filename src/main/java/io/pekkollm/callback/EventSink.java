package io.pekkollm.callback;

/**
 * Base of the built-in sinks: a call's start, success and failure all go to {@link #accept}; chunks are not
 * asked for. Used from its delivery thread only.
 */
abstract class EventSink implements LlmCallback {
  /** Writes or holds one event. */
  abstract void accept(CallEvent event);

  @Override
  public final void onStart(CallEvent.Started event) {
    accept(event);
  }

  @Override
  public final void onSuccess(CallEvent.Succeeded event) {
    accept(event);
  }

  @Override
  public final void onFailure(CallEvent.Failed event) {
    accept(event);
  }

  @Override
  public final void onSoftBudgetExceeded(CallEvent.SoftBudgetExceeded event) {
    accept(event);
  }
}
