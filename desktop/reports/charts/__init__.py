"""The chart kit the PDF reports draw with: SPC, funnel and trend charts and the Making Data Count icons."""
