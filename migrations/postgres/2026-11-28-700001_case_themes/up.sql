-- Learning themes (issue 12): a case tagged with themes from `reports.themes` and free tags.
-- `theme` is the text as shown; `theme_key` its lower-case form, so one theme is tagged once
-- per case whatever its capitals, and the report counts by it.
CREATE TABLE case_themes (
    case_id TEXT NOT NULL REFERENCES cases (id),
    theme_key TEXT NOT NULL,
    theme TEXT NOT NULL,
    tagged_by TEXT NOT NULL REFERENCES users (id),
    tagged_at TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, theme_key)
);
CREATE INDEX case_themes_theme ON case_themes (theme_key, case_id);
