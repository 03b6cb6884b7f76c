package io.pekkollm.tools;

/** Why a tool call gave an error result instead of the tool's own. */
public enum ToolError {
  /** The model named a tool that is not in the loop. */
  UNKNOWN_TOOL,
  /** The arguments were not JSON or did not match the tool's schema. */
  INVALID_ARGUMENTS,
  /** The tool threw. */
  FAILED,
  /** The tool did not finish within {@link ToolLoopOptions#toolTimeout()}. */
  TIMED_OUT
}
