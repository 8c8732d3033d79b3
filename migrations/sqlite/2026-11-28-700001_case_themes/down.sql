DROP INDEX case_themes_theme;
DROP TABLE case_themes;
