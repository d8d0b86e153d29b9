/* placeholder: implemented by the log module work */
