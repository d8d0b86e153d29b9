/* placeholder: implemented by the secret module work */
