"""The retention and engagement report: charts of the published marts, as HTML and as metadata."""
