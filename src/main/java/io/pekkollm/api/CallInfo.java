package io.pekkollm.api;

import io.pekkollm.model.TruncationReport;

/**
 * What one call learned while it ran: which {@code provider/model} served it (known when its first chunk
 * arrives; a model group may try several) and what truncation did to the request that model got. Written by
 * the stream, read by the caller's handle; thread-safe.
 */
final class CallInfo {
  private volatile String servedModel;
  private volatile TruncationReport truncation;

  CallInfo(TruncationReport truncation) {
    this.truncation = truncation;
  }

  void served(String model, TruncationReport report) {
    this.truncation = report;
    this.servedModel = model;
  }

  String servedModel() {
    return servedModel;
  }

  TruncationReport truncation() {
    return truncation;
  }
}
