"""Plan reports: text (rich tables) and one self-contained HTML file. JSON is planner.codec.plan_to_json."""
